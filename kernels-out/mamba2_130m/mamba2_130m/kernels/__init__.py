# generated from examples/mamba2-130m.ts by @mamba2/codegen 0.1.0 -- do not edit
# ir-hash: c65e08f6667234bed7456751cb78c3aca957c216835fd09082ab28d4c035a5f9
"""Triton kernels of mamba2_130m: conv, conv_bwd, dt, norm, norm_bwd, ssd_bwd, ssd_chunked, ssd_fused."""
