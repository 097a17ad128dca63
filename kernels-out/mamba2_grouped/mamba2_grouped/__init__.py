# generated from examples/mamba2-grouped.ts by @mamba2/codegen 0.1.0 -- do not edit
# ir-hash: fa85730bebae7a2c030b64c97ed7741c55b246df197a541c883097db096c1c1a
"""Mamba2Grouped and its Triton ops, generated from examples/mamba2-grouped.ts.

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
from .module import Mamba2Grouped

IR_PATH = str(_Path(__file__).with_name("ir.json"))
IR_HASH = "fa85730bebae7a2c030b64c97ed7741c55b246df197a541c883097db096c1c1a"

__all__ = ["Mamba2Grouped", "InferenceParams", "MambaConfig", "MambaLMHeadModel", "IR_HASH", "IR_PATH", "causal_conv1d", "dt_transform", "mamba_chunk_scan_combined", "rmsnorm_gated"]
