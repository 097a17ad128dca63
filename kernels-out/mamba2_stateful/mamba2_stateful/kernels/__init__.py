# generated from examples/mamba2-stateful.ts by @mamba2/codegen 0.1.0 -- do not edit
# ir-hash: 28c133f5208b79443bad7b2823c4e58c73662dcc204c1fd05b08cd746e622021
"""Triton kernels of mamba2_stateful: conv, conv_bwd, dt, norm, norm_bwd, ssd_bwd, ssd_chunked, ssd_fused."""
