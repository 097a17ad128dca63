# generated from examples/vision-mamba2.ts by @mamba2/codegen 0.1.0 -- do not edit
# ir-hash: 8a3fb3246882eec4e3529382ad21118df58d599c15e4d623731da8d59d3fa00c
"""Triton kernels of vision_mamba2: conv, conv2d, conv2d_bwd, conv_bwd, cross_merge, cross_scan, dt, norm, norm_bwd, ssd_bwd, ssd_chunked, ssd_fused."""
