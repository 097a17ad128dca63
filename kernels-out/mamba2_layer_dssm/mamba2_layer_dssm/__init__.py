# generated from examples/mamba2-layer-dssm.ts by @mamba2/codegen 0.1.0 -- do not edit
# ir-hash: 6b506ed2d21581e9224bb0cf9eb0bc4a8c5edcd8d3b57ffda137018a416ffd5d
"""Mamba2 and its Triton ops, generated from examples/mamba2-layer-dssm.ts.

On a machine without CUDA, set TRITON_INTERPRET=1 before importing to run
the kernels on CPU tensors.
"""
from pathlib import Path as _Path

from .functional import mamba_chunk_scan_combined
from .kernels.conv import causal_conv1d
from .kernels.dt import dt_transform
from .kernels.norm import rmsnorm_gated
from .inference import InferenceParams
from .lm import MambaConfig, MambaLMHeadModel
from .module import Mamba2

IR_PATH = str(_Path(__file__).with_name("ir.json"))
IR_HASH = "6b506ed2d21581e9224bb0cf9eb0bc4a8c5edcd8d3b57ffda137018a416ffd5d"

__all__ = ["Mamba2", "InferenceParams", "MambaConfig", "MambaLMHeadModel", "IR_HASH", "IR_PATH", "causal_conv1d", "dt_transform", "mamba_chunk_scan_combined", "rmsnorm_gated"]
