# generated from examples/mamba2-builder-gate.ts by @mamba2/codegen 0.1.0 -- do not edit
# ir-hash: 01a4d70e009f36db6958a2bfc0484cbee5f23ac65cb30c1ce3d4fa4a6ee50f59
"""Triton kernels of mamba2_builder_gate: conv, conv_bwd, dt, ssd_bwd, ssd_chunked, ssd_fused."""
