# generated from bench/models/block-1536.ts by @mamba2/codegen 0.1.0 -- do not edit
# ir-hash: 65cd7df4acadc7d50830e87286fa871bece6d52616487c6c81ba848bf1b8bf0c
"""Triton kernels of bench_block_1536: conv, conv_bwd, dt, norm, norm_bwd, ssd_bwd, ssd_chunked, ssd_fused."""
