# generated from examples/sweeps/h200-block.ts by @mamba2/codegen 0.1.0 -- do not edit
# ir-hash: e5c14ccbbc1bb59394a413437734c304cbe5cb4c7d9711ecb58e50a1fc6959ff
"""Triton kernels of sweep_h200: conv, conv_bwd, dt, norm, norm_bwd, ssd_bwd, ssd_chunked, ssd_fused."""
