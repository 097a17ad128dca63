# generated from bench/models/block-1536.ts by @mamba2/codegen 0.1.0 -- do not edit
# ir-hash: ce276f111d871043363d32dc37007098a1356a3db65f4054f8f567e129ec5a3c
# copied from packages/kernels/python/mamba2_kernels/fragments.py
"""The library's standard fragments: small @triton.jit functions that the
kernel skeletons take as constexpr arguments and call inline.

A kernel declares e.g. `ACT: tl.constexpr` and calls `ACT(v)`; the wrapper
passes a @triton.jit function. Triton inlines it and keys its compile cache
on the function's source, so a different fragment is a different
specialisation of the same kernel, with no kernel edit.

Signatures (every implementation of a fragment keeps its one):
  activation(v) -> v                       conv activation (identity, silu)
  dt_chain(v, bias, lo, hi, HAS_DT_BIAS, DT_SOFTPLUS) -> dt (fp32)
      raw dt -> the dt the recurrence uses; bias is the loaded dt_bias (0.0
      without), lo/hi the runtime dt_limit.
  scan_epilogue(y, x, D, z, HAS_D, HAS_Z) -> out (fp32)
      after the scan, per output tile: y the scan output, x the input tile,
      D the loaded skip weights (0.0 without), z the loaded fp32 gate (0.0
      without).
The standard ones below read the flags, so they serve every call of the
functional API. A generated package's `_fragments.py` holds the model's own
(what its IR decides) and says which calls they serve (`*_SERVES`);
`choose` picks between the two (see _fragments.py).
"""
from __future__ import annotations

import triton
import triton.language as tl


@triton.jit
def identity(v):
    return v


@triton.jit
def silu(v):
    return v * tl.sigmoid(v)


@triton.jit
def softplus_f32(v):
    """softplus with the usual threshold (v > 20 -> v); log1p done by hand so
    small values keep their relative precision (log(1 + u) loses it)."""
    u = tl.exp(tl.minimum(v, 20.0))
    small = u * (1.0 - u * (0.5 - u * (0.3333333333333333 - u * 0.25)))
    sp = tl.where(u < 0.01, small, tl.log(1.0 + u))
    return tl.where(v > 20.0, v, sp)


@triton.jit
def clamp(v, lo, hi):
    return tl.minimum(tl.maximum(v, lo), hi)


@triton.jit
def dt_chain(v, bias, lo, hi, HAS_DT_BIAS: tl.constexpr, DT_SOFTPLUS: tl.constexpr):
    """The standard dt transform: clamp(softplus?(v + bias?), lo, hi)."""
    if HAS_DT_BIAS:
        v = v + bias
    if DT_SOFTPLUS:
        v = softplus_f32(v)
    return clamp(v, lo, hi)


@triton.jit
def scan_epilogue(y, x, D, z, HAS_D: tl.constexpr, HAS_Z: tl.constexpr):
    """The standard epilogue: (y + D x) * silu(z), each part when present."""
    if HAS_D:
        y += x.to(tl.float32) * D
    if HAS_Z:
        y = y * z * tl.sigmoid(z)
    return y


# conv activation names the functional API accepts
CONV_ACTIVATIONS = {"silu": silu, "swish": silu, "identity": identity, None: identity}


def is_fragment(obj):
    """True for a @triton.jit function (compiled or interpreted)."""
    return isinstance(obj, triton.runtime.jit.KernelInterface)


def choose(model_fragment, serves, flags, standard):
    """The model's fragment when it serves this call, else the standard one.

    serves: None (serves every call) or a dict of the constexpr flags the
    model's fragment was built for, e.g. {"HAS_DT_BIAS": True, "DT_SOFTPLUS": True};
    flags: this call's values of those flags.
    """
    if serves is None or all(flags.get(k) == v for k, v in serves.items()):
        return model_fragment
    return standard
