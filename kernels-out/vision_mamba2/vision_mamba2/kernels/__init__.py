# generated from examples/vision-mamba2.ts by @mamba2/codegen 0.1.0 -- do not edit
# ir-hash: 973d21e2cf8d81c0e01a13580d2634dea1d19fba039c3bddcd8ee47c7c19c7c4
"""Triton kernels of vision_mamba2: conv, conv2d, conv2d_bwd, conv_bwd, cross_merge, cross_scan, dt, norm, norm_bwd, ssd_bwd, ssd_chunked, ssd_fused."""
