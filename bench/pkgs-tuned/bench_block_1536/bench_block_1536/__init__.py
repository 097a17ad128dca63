# generated from bench/models/block-1536.ts by @mamba2/codegen 0.1.0 -- do not edit
# ir-hash: ce276f111d871043363d32dc37007098a1356a3db65f4054f8f567e129ec5a3c
"""BenchBlock1536 and its Triton ops, generated from bench/models/block-1536.ts.

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
from .module import BenchBlock1536

IR_PATH = str(_Path(__file__).with_name("ir.json"))
IR_HASH = "ce276f111d871043363d32dc37007098a1356a3db65f4054f8f567e129ec5a3c"

__all__ = ["BenchBlock1536", "InferenceParams", "MambaConfig", "MambaLMHeadModel", "IR_HASH", "IR_PATH", "causal_conv1d", "dt_transform", "mamba_chunk_scan_combined", "rmsnorm_gated"]
