# generated from examples/vision-mamba2-bidirectional.ts by @mamba2/codegen 0.1.0 -- do not edit
# ir-hash: 6d2a3c95c9c656841db27ea88642325edc8484d05b9e62517e04d1c8e5a9a68f
"""Triton kernels of vision_mamba2_bidirectional: conv, conv2d, conv2d_bwd, conv_bwd, cross_merge, cross_scan, dt, norm, norm_bwd, ssd_bwd, ssd_chunked, ssd_fused."""
