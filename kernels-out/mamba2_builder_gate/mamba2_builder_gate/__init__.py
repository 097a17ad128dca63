# generated from examples/mamba2-builder-gate.ts by @mamba2/codegen 0.1.0 -- do not edit
# ir-hash: 199ee129cb1192e6e2631245c55af3764dd8e1c0b74922375a8d5a6f5ae3dc58
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
IR_HASH = "199ee129cb1192e6e2631245c55af3764dd8e1c0b74922375a8d5a6f5ae3dc58"

__all__ = ["Mamba2BuilderGate", "InferenceParams", "MambaConfig", "MambaLMHeadModel", "IR_HASH", "IR_PATH", "causal_conv1d", "dt_transform", "mamba_chunk_scan_combined"]
