# generated from examples/mamba2-conv6-nogate.ts by @mamba2/codegen 0.1.0 -- do not edit
# ir-hash: eebdfa7a3668408e525ad80831102a176639dfbfef15bfab2177212a68e43ddc
"""Triton kernels of mamba2_conv6_nogate: conv, conv_bwd, dt, norm, norm_bwd, ssd_bwd, ssd_chunked, ssd_fused."""
