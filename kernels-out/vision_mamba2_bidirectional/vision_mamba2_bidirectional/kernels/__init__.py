# generated from examples/vision-mamba2-bidirectional.ts by @mamba2/codegen 0.1.0 -- do not edit
# ir-hash: ecdc1a8c1f3908dbc9b3232a151982a82ea56e47204e629702db577caff5a69c
"""Triton kernels of vision_mamba2_bidirectional: conv, conv2d, conv2d_bwd, conv_bwd, cross_merge, cross_scan, dt, norm, norm_bwd, ssd_bwd, ssd_chunked, ssd_fused."""
