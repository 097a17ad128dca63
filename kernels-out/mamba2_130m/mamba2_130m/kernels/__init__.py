# generated from examples/mamba2-130m.ts by @mamba2/codegen 0.1.0 -- do not edit
# ir-hash: ef1b2cd2430596bb1585ad29ffa31664da3751fe2ff6df5a5c1764461861285b
"""Triton kernels of mamba2_130m: conv, conv_bwd, dt, norm, norm_bwd, ssd_bwd, ssd_chunked, ssd_fused."""
