# generated from bench/models/block-2560.ts by @mamba2/codegen 0.1.0 -- do not edit
# ir-hash: d314f8f23576f3ecc35b8332ab575b62c3f17b6e8e3790bb03c3ae4cbc66b5ec
"""BenchBlock2560 and its Triton ops, generated from bench/models/block-2560.ts.

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
from .module import BenchBlock2560

IR_PATH = str(_Path(__file__).with_name("ir.json"))
IR_HASH = "d314f8f23576f3ecc35b8332ab575b62c3f17b6e8e3790bb03c3ae4cbc66b5ec"

__all__ = ["BenchBlock2560", "InferenceParams", "MambaConfig", "MambaLMHeadModel", "IR_HASH", "IR_PATH", "causal_conv1d", "dt_transform", "mamba_chunk_scan_combined", "rmsnorm_gated"]
