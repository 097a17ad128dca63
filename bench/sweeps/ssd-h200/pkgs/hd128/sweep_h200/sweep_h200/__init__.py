# generated from examples/sweeps/h200-block.ts by @mamba2/codegen 0.1.0 -- do not edit
# ir-hash: 5f9c177d2a34c3e0937e27cddd569baec148e540893ef52f7b9dcd2bda752224
"""SweepH200 and its Triton ops, generated from examples/sweeps/h200-block.ts.

On a machine without CUDA, set TRITON_INTERPRET=1 before importing to run
the kernels on CPU tensors.
"""
from pathlib import Path as _Path

from .functional import mamba_chunk_scan_combined
from .kernels.conv import causal_conv1d
from .kernels.dt import dt_transform
from .kernels.norm import rmsnorm_gated
from .module import SweepH200

IR_PATH = str(_Path(__file__).with_name("ir.json"))
IR_HASH = "5f9c177d2a34c3e0937e27cddd569baec148e540893ef52f7b9dcd2bda752224"

__all__ = ["SweepH200", "IR_HASH", "IR_PATH", "causal_conv1d", "dt_transform", "mamba_chunk_scan_combined", "rmsnorm_gated"]
