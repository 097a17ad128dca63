# generated from examples/mamba2-simple.ts by @mamba2/codegen 0.1.0 -- do not edit
# ir-hash: 424e35b9a6cbde3f760cbbdda6581245b41bd18aa47e61809cb8681fa3b0ab69
"""Mamba2Simple and its Triton ops, generated from examples/mamba2-simple.ts.

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
from .module import Mamba2Simple

IR_PATH = str(_Path(__file__).with_name("ir.json"))
IR_HASH = "424e35b9a6cbde3f760cbbdda6581245b41bd18aa47e61809cb8681fa3b0ab69"

__all__ = ["Mamba2Simple", "InferenceParams", "MambaConfig", "MambaLMHeadModel", "IR_HASH", "IR_PATH", "causal_conv1d", "dt_transform", "mamba_chunk_scan_combined", "rmsnorm_gated"]
