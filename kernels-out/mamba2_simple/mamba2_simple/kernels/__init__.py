# generated from examples/mamba2-simple.ts by @mamba2/codegen 0.1.0 -- do not edit
# ir-hash: 7311b986a5ab9d40531b757f5f3633b105306d2d5230519f72aaad9ffccdbec9
"""Triton kernels of mamba2_simple: conv, conv_bwd, dt, norm, norm_bwd, ssd_bwd, ssd_chunked, ssd_fused."""
