"""The float64 reference backend: plain PyTorch, independent of the kernels,
differentiable by design (autograd through it gives the reference gradients).

scan.py: ref_scan (the sequential recurrence); ops.py: conv, dt, norm;
graph.py: ref_block, which interprets a model's ir.json; cross_scan.py:
ref_cross_scan (scans of an image in several orders, merged).

    from mamba2_runner.reference import ref_scan, ref_block
"""
from .cross_scan import ref_cross_scan
from .graph import IRInterpretError, ref_block
from .ops import ref_causal_conv1d, ref_dt_transform, ref_rmsnorm_gated, ref_silu, ref_softplus
from .scan import ref_scan

__all__ = ["IRInterpretError", "ref_block", "ref_causal_conv1d", "ref_cross_scan", "ref_dt_transform", "ref_rmsnorm_gated",
           "ref_scan", "ref_silu", "ref_softplus"]
