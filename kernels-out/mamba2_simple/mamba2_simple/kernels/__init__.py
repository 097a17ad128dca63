# generated from examples/mamba2-simple.ts by @mamba2/codegen 0.1.0 -- do not edit
# ir-hash: 424e35b9a6cbde3f760cbbdda6581245b41bd18aa47e61809cb8681fa3b0ab69
"""Triton kernels of mamba2_simple: conv, conv_bwd, dt, norm, norm_bwd, ssd_bwd, ssd_chunked, ssd_fused."""
