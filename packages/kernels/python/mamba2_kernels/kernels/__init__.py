"""Triton kernels of the Mamba-2 library: the SSD scan (fused and chunked,
forward and backward), the causal conv, the dt prologue and the gated norm."""
