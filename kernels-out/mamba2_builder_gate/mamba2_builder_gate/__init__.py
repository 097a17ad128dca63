# generated from examples/mamba2-builder-gate.ts by @mamba2/codegen 0.1.0 -- do not edit
# ir-hash: 01a4d70e009f36db6958a2bfc0484cbee5f23ac65cb30c1ce3d4fa4a6ee50f59
"""Mamba2BuilderGate and its Triton ops, generated from examples/mamba2-builder-gate.ts.

On a machine without CUDA, set TRITON_INTERPRET=1 before importing to run
the kernels on CPU tensors.
"""
from pathlib import Path as _Path

from .functional import mamba_chunk_scan_combined
from .kernels.conv import causal_conv1d
from .kernels.dt import dt_transform
from .inference import InferenceParams
from .lm import MambaConfig, MambaLMHeadModel
from .module import Mamba2BuilderGate

IR_PATH = str(_Path(__file__).with_name("ir.json"))
IR_HASH = "01a4d70e009f36db6958a2bfc0484cbee5f23ac65cb30c1ce3d4fa4a6ee50f59"

__all__ = ["Mamba2BuilderGate", "InferenceParams", "MambaConfig", "MambaLMHeadModel", "IR_HASH", "IR_PATH", "causal_conv1d", "dt_transform", "mamba_chunk_scan_combined"]
