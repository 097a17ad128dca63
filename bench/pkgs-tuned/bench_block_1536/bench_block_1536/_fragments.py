# generated from bench/models/block-1536.ts by @mamba2/codegen 0.1.0 -- do not edit
# ir-hash: ce276f111d871043363d32dc37007098a1356a3db65f4054f8f567e129ec5a3c
"""The fragments of bench_block_1536: @triton.jit functions built from its IR, which
the library's kernels call for the model's path (see fragments.py for the
interface). `*_SERVES` are the call flags each was built for; any other call
of the functional API gets the library's standard fragment.
"""
import triton
import triton.language as tl

from .fragments import clamp, softplus_f32  # noqa: F401


@triton.jit
def dt_chain(v, bias, lo, hi, HAS_DT_BIAS: tl.constexpr, DT_SOFTPLUS: tl.constexpr):
    """dt of bench_block_1536: raw dt + dt_bias, softplus, clamp to dt_limit."""
    v = v + bias
    v = softplus_f32(v)
    v = clamp(v, lo, hi)
    return v


@triton.jit
def scan_epilogue(y, x, D, z, HAS_D: tl.constexpr, HAS_Z: tl.constexpr):
    """scan epilogue of bench_block_1536: D skip per head; the norm runs after the scan (kernels/norm.py)."""
    y += x.to(tl.float32) * D
    return y


@triton.jit
def conv_activation(v):
    """conv activation of bench_block_1536: silu."""
    return v * tl.sigmoid(v)


DT_CHAIN = dt_chain
DT_CHAIN_SERVES = {"HAS_DT_BIAS": True, "DT_SOFTPLUS": True}
SCAN_EPILOGUE = scan_epilogue
SCAN_EPILOGUE_SERVES = {"HAS_D": True, "HAS_Z": False}
CONV_ACTIVATION = conv_activation
CONV_ACTIVATION_NAME = "silu"
