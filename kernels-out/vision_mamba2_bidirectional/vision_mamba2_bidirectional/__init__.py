# generated from examples/vision-mamba2-bidirectional.ts by @mamba2/codegen 0.1.0 -- do not edit
# ir-hash: ecdc1a8c1f3908dbc9b3232a151982a82ea56e47204e629702db577caff5a69c
"""VisionMamba2BidirectionalBlock and its Triton ops, generated from examples/vision-mamba2-bidirectional.ts.

On a machine without CUDA, set TRITON_INTERPRET=1 before importing to run
the kernels on CPU tensors.
"""
from pathlib import Path as _Path

from .cross_scan import cross_scan_combined
from .functional import mamba_chunk_scan_combined
from .kernels.conv2d import depthwise_conv2d
from .kernels.norm import rmsnorm_gated
from .module import VisionMamba2BidirectionalBlock

IR_PATH = str(_Path(__file__).with_name("ir.json"))
IR_HASH = "ecdc1a8c1f3908dbc9b3232a151982a82ea56e47204e629702db577caff5a69c"

__all__ = ["VisionMamba2BidirectionalBlock", "IR_HASH", "IR_PATH", "cross_scan_combined", "depthwise_conv2d", "mamba_chunk_scan_combined", "rmsnorm_gated"]
