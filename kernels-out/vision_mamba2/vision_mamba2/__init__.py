# generated from examples/vision-mamba2.ts by @mamba2/codegen 0.1.0 -- do not edit
# ir-hash: 973d21e2cf8d81c0e01a13580d2634dea1d19fba039c3bddcd8ee47c7c19c7c4
"""VisionMamba2Block and its Triton ops, generated from examples/vision-mamba2.ts.

On a machine without CUDA, set TRITON_INTERPRET=1 before importing to run
the kernels on CPU tensors.
"""
from pathlib import Path as _Path

from .cross_scan import cross_scan_combined
from .functional import mamba_chunk_scan_combined
from .kernels.conv2d import depthwise_conv2d
from .kernels.norm import rmsnorm_gated
from .module import VisionMamba2Block

IR_PATH = str(_Path(__file__).with_name("ir.json"))
IR_HASH = "973d21e2cf8d81c0e01a13580d2634dea1d19fba039c3bddcd8ee47c7c19c7c4"

__all__ = ["VisionMamba2Block", "IR_HASH", "IR_PATH", "cross_scan_combined", "depthwise_conv2d", "mamba_chunk_scan_combined", "rmsnorm_gated"]
