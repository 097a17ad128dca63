# generated from examples/mamba2-layer-dssm.ts by @mamba2/codegen 0.1.0 -- do not edit
# ir-hash: b08c34b780e60fc6e49588f10b1a71f9d6e12c5f836021a2820d138a78a7d3b2
"""Triton kernels of mamba2_layer_dssm: conv, conv_bwd, dt, norm, norm_bwd, ssd_bwd, ssd_chunked, ssd_fused."""
