# generated from bench/models/block-2560.ts by @mamba2/codegen 0.1.0 -- do not edit
# ir-hash: 892092f85b63594f4f58ed4fc88f35228e3997ca8e539589095ed0ed3b90773f
"""Triton kernels of bench_block_2560: conv, conv_bwd, dt, norm, norm_bwd, ssd_bwd, ssd_chunked, ssd_fused."""
