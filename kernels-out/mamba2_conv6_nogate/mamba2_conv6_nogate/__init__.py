# generated from examples/mamba2-conv6-nogate.ts by @mamba2/codegen 0.1.0 -- do not edit
# ir-hash: eebdfa7a3668408e525ad80831102a176639dfbfef15bfab2177212a68e43ddc
"""Mamba2Conv6Nogate and its Triton ops, generated from examples/mamba2-conv6-nogate.ts.

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
from .module import Mamba2Conv6Nogate

IR_PATH = str(_Path(__file__).with_name("ir.json"))
IR_HASH = "eebdfa7a3668408e525ad80831102a176639dfbfef15bfab2177212a68e43ddc"

__all__ = ["Mamba2Conv6Nogate", "InferenceParams", "MambaConfig", "MambaLMHeadModel", "IR_HASH", "IR_PATH", "causal_conv1d", "dt_transform", "mamba_chunk_scan_combined", "rmsnorm_gated"]
