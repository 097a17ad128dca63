# generated from examples/mamba2-130m.ts by @mamba2/codegen 0.1.0 -- do not edit
# ir-hash: c65e08f6667234bed7456751cb78c3aca957c216835fd09082ab28d4c035a5f9
"""Mamba2 and its Triton ops, generated from examples/mamba2-130m.ts.

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
IR_HASH = "c65e08f6667234bed7456751cb78c3aca957c216835fd09082ab28d4c035a5f9"

__all__ = ["Mamba2", "InferenceParams", "MambaConfig", "MambaLMHeadModel", "IR_HASH", "IR_PATH", "causal_conv1d", "dt_transform", "mamba_chunk_scan_combined", "rmsnorm_gated"]
