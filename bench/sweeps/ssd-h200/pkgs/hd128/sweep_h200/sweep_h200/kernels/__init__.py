# generated from examples/sweeps/h200-block.ts by @mamba2/codegen 0.1.0 -- do not edit
# ir-hash: 5f9c177d2a34c3e0937e27cddd569baec148e540893ef52f7b9dcd2bda752224
"""Triton kernels of sweep_h200: conv, conv_bwd, dt, norm, norm_bwd, ssd_bwd, ssd_chunked, ssd_fused."""
