# generated from examples/mamba2-grouped.ts by @mamba2/codegen 0.1.0 -- do not edit
# ir-hash: 24d8996fb3e0f39cb334b77301779adf993dd880abc460c22fbb1f7dd90e3736
"""Triton kernels of mamba2_grouped: conv, conv_bwd, dt, norm, norm_bwd, ssd_bwd, ssd_chunked, ssd_fused."""
