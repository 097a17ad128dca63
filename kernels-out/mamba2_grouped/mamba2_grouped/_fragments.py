# generated from examples/mamba2-grouped.ts by @mamba2/codegen 0.1.0 -- do not edit
# ir-hash: fa85730bebae7a2c030b64c97ed7741c55b246df197a541c883097db096c1c1a
"""The fragments of mamba2_grouped: @triton.jit functions built from its IR, which
the library's kernels call for the model's path (see fragments.py for the
interface). `*_SERVES` are the call flags each was built for; any other call
of the functional API gets the library's standard fragment.
"""
import triton
import triton.language as tl

from .fragments import clamp, softplus_f32  # noqa: F401


@triton.jit
def dt_chain(v, bias, lo, hi, HAS_DT_BIAS: tl.constexpr, DT_SOFTPLUS: tl.constexpr):
    """dt of mamba2_grouped: raw dt + dt_bias, softplus, clamp to dt_limit."""
    v = v + bias
    v = softplus_f32(v)
    v = clamp(v, lo, hi)
    return v


@triton.jit
def scan_epilogue(y, x, D, z, HAS_D: tl.constexpr, HAS_Z: tl.constexpr):
    """scan epilogue of mamba2_grouped: D skip per head; the norm runs after the scan (kernels/norm.py)."""
    y += x.to(tl.float32) * D
    return y


@triton.jit
def conv_activation(v):
    """conv activation of mamba2_grouped: silu."""
    return v * tl.sigmoid(v)


DT_CHAIN = dt_chain
DT_CHAIN_SERVES = {"HAS_DT_BIAS": True, "DT_SOFTPLUS": True}
SCAN_EPILOGUE = scan_epilogue
SCAN_EPILOGUE_SERVES = {"HAS_D": True, "HAS_Z": False}
CONV_ACTIVATION = conv_activation
CONV_ACTIVATION_NAME = "silu"
