# generated from examples/mamba2-stateful.ts by @mamba2/codegen 0.1.0 -- do not edit
# ir-hash: 28c133f5208b79443bad7b2823c4e58c73662dcc204c1fd05b08cd746e622021
"""Mamba2Stateful and its Triton ops, generated from examples/mamba2-stateful.ts.

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
from .module import Mamba2Stateful

IR_PATH = str(_Path(__file__).with_name("ir.json"))
IR_HASH = "28c133f5208b79443bad7b2823c4e58c73662dcc204c1fd05b08cd746e622021"

__all__ = ["Mamba2Stateful", "InferenceParams", "MambaConfig", "MambaLMHeadModel", "IR_HASH", "IR_PATH", "causal_conv1d", "dt_transform", "mamba_chunk_scan_combined", "rmsnorm_gated"]
