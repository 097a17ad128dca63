# generated from bench/models/block-1536.ts by @mamba2/codegen 0.1.0 -- do not edit
# ir-hash: ce276f111d871043363d32dc37007098a1356a3db65f4054f8f567e129ec5a3c
"""Triton kernels of bench_block_1536: conv, conv_bwd, dt, norm, norm_bwd, ssd_bwd, ssd_chunked, ssd_fused."""
