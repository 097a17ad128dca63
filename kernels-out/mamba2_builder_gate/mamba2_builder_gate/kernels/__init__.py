# generated from examples/mamba2-builder-gate.ts by @mamba2/codegen 0.1.0 -- do not edit
# ir-hash: 199ee129cb1192e6e2631245c55af3764dd8e1c0b74922375a8d5a6f5ae3dc58
"""Triton kernels of mamba2_builder_gate: conv, conv_bwd, dt, ssd_bwd, ssd_chunked, ssd_fused."""
