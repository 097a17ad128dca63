# generated from examples/mamba2-builder-gate.ts by @mamba2/codegen 0.1.0 -- do not edit
# ir-hash: 199ee129cb1192e6e2631245c55af3764dd8e1c0b74922375a8d5a6f5ae3dc58
"""The fragments of mamba2_builder_gate: @triton.jit functions built from its IR, which
the library's kernels call for the model's path (see fragments.py for the
interface). `*_SERVES` are the call flags each was built for; any other call
of the functional API gets the library's standard fragment.
"""
import triton
import triton.language as tl

from .fragments import clamp, softplus_f32  # noqa: F401


@triton.jit
def dt_chain(v, bias, lo, hi, HAS_DT_BIAS: tl.constexpr, DT_SOFTPLUS: tl.constexpr):
    """dt of mamba2_builder_gate: raw dt + dt_bias, softplus, clamp to dt_limit."""
    v = v + bias
    v = softplus_f32(v)
    v = clamp(v, lo, hi)
    return v


@triton.jit
def scan_epilogue(y, x, D, z, HAS_D: tl.constexpr, HAS_Z: tl.constexpr):
    """scan epilogue of mamba2_builder_gate: D skip per head, then z gate (silu)."""
    y += x.to(tl.float32) * D
    y = y * z * tl.sigmoid(z)
    return y


@triton.jit
def conv_activation(v):
    """conv activation of mamba2_builder_gate: silu."""
    return v * tl.sigmoid(v)


DT_CHAIN = dt_chain
DT_CHAIN_SERVES = {"HAS_DT_BIAS": True, "DT_SOFTPLUS": True}
SCAN_EPILOGUE = scan_epilogue
SCAN_EPILOGUE_SERVES = {"HAS_D": True, "HAS_Z": True}
CONV_ACTIVATION = conv_activation
CONV_ACTIVATION_NAME = "silu"
