# generated from examples/mamba2-stateful.ts by @mamba2/codegen 0.1.0 -- do not edit
# ir-hash: 0cac0381e0f7621aa97c44a351e8f38c26d1583bae51dda26b860956b5dd7a54
"""Triton kernels of mamba2_stateful: conv, conv_bwd, dt, norm, norm_bwd, ssd_bwd, ssd_chunked, ssd_fused."""
