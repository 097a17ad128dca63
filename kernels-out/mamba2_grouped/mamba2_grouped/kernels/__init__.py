# generated from examples/mamba2-grouped.ts by @mamba2/codegen 0.1.0 -- do not edit
# ir-hash: fa85730bebae7a2c030b64c97ed7741c55b246df197a541c883097db096c1c1a
"""Triton kernels of mamba2_grouped: conv, conv_bwd, dt, norm, norm_bwd, ssd_bwd, ssd_chunked, ssd_fused."""
