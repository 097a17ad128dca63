# generated from bench/models/block-2560.ts by @mamba2/codegen 0.1.0 -- do not edit
# ir-hash: d314f8f23576f3ecc35b8332ab575b62c3f17b6e8e3790bb03c3ae4cbc66b5ec
"""Triton kernels of bench_block_2560: conv, conv_bwd, dt, norm, norm_bwd, ssd_bwd, ssd_chunked, ssd_fused."""
