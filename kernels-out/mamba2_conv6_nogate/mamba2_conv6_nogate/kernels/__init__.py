# generated from examples/mamba2-conv6-nogate.ts by @mamba2/codegen 0.1.0 -- do not edit
# ir-hash: 9480897ab90b05dc27f89b9585bf4bf6042ed363de54c0be71ccbd479f275773
"""Triton kernels of mamba2_conv6_nogate: conv, conv_bwd, dt, norm, norm_bwd, ssd_bwd, ssd_chunked, ssd_fused."""
