# generated from examples/mamba2-layer-dssm.ts by @mamba2/codegen 0.1.0 -- do not edit
# ir-hash: 6b506ed2d21581e9224bb0cf9eb0bc4a8c5edcd8d3b57ffda137018a416ffd5d
"""Triton kernels of mamba2_layer_dssm: conv, conv_bwd, dt, norm, norm_bwd, ssd_bwd, ssd_chunked, ssd_fused."""
