# generated from examples/sweeps/h200-block.ts by @mamba2/codegen 0.1.0 -- do not edit
# ir-hash: 7941c254dec5cd4a8e4ec0480485eec55a34501a0ea7b0e1f88d5f83fecefc30
"""Triton kernels of sweep_h200: conv, conv_bwd, dt, norm, norm_bwd, ssd_bwd, ssd_chunked, ssd_fused."""
