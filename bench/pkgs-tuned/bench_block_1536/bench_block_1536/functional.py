# generated from bench/models/block-1536.ts by @mamba2/codegen 0.1.0 -- do not edit
# ir-hash: ce276f111d871043363d32dc37007098a1356a3db65f4054f8f567e129ec5a3c
# copied from packages/kernels/python/mamba2_kernels/functional.py
"""mamba_chunk_scan_combined: the public SSD scan entry point.

Checks every input's shape and dtype (errors name the tensor, the values and
the fix) and dispatches to the fused one-launch kernel or the chunked
multi-launch one (impl=None -> _config.LAUNCH.scan_impl). `scan_kernel` is that one
dispatch; autograd.py uses it too.
"""
from __future__ import annotations

import math

import torch

from . import _config
from .kernels.host import check_chunk_size

IMPLS = ("fused", "chunked")
_FLOAT_DTYPES = (torch.float32, torch.float16, torch.bfloat16)


def _shape(t):
    return tuple(t.shape)


def _expect_shape(name, t, expected, meaning):
    if _shape(t) != tuple(expected):
        raise ValueError(
            f"{name} must have shape {meaning} = {tuple(expected)}, got {_shape(t)}"
        )


def _check_inputs(x, dt, A, B, C, chunk_size, D, z, dt_bias, initial_states, seq_idx, dt_limit):
    if not isinstance(x, torch.Tensor) or x.dim() != 4:
        got = _shape(x) if isinstance(x, torch.Tensor) else type(x).__name__
        raise ValueError(f"x must be a 4-d tensor [batch, seqlen, nheads, headdim], got {got}")
    b, l, h, p = x.shape
    if x.dtype not in _FLOAT_DTYPES:
        raise TypeError(f"x must be float32, float16 or bfloat16, got {x.dtype}")
    if B.dim() != 4:
        raise ValueError(f"B must be 4-d [batch, seqlen, ngroups, d_state], got shape {_shape(B)}")
    g, n = B.shape[2], B.shape[3]
    _expect_shape("dt", dt, (b, l, h), "[batch, seqlen, nheads] from x")
    _expect_shape("A", A, (h,), "[nheads] from x")
    if _shape(B)[:2] != (b, l):
        raise ValueError(
            f"B must have shape [batch, seqlen, ngroups, d_state] with batch, seqlen = {(b, l)} "
            f"from x, got {_shape(B)}"
        )
    _expect_shape("C", C, _shape(B), "[batch, seqlen, ngroups, d_state] like B")
    if g == 0 or h % g != 0:
        raise ValueError(
            f"nheads {h} (x.shape[2]) is not a multiple of ngroups {g} (B.shape[2]): "
            "each group must serve the same number of heads"
        )
    if D is not None and _shape(D) not in ((h,), (h, p)):
        raise ValueError(f"D must have shape [nheads] = {(h,)} or [nheads, headdim] = {(h, p)}, got {_shape(D)}")
    if z is not None:
        _expect_shape("z", z, _shape(x), "[batch, seqlen, nheads, headdim] like x")
    if dt_bias is not None:
        _expect_shape("dt_bias", dt_bias, (h,), "[nheads] from x")
    if initial_states is not None:
        _expect_shape("initial_states", initial_states, (b, h, p, n), "[batch, nheads, headdim, d_state]")
    if seq_idx is not None:
        _expect_shape("seq_idx", seq_idx, (b, l), "[batch, seqlen] from x")
        if seq_idx.dtype != torch.int32:
            raise TypeError(f"seq_idx must be int32, got {seq_idx.dtype}: pass seq_idx.to(torch.int32)")
    for name, t in (("dt", dt), ("A", A), ("B", B), ("C", C), ("D", D), ("z", z),
                    ("dt_bias", dt_bias), ("initial_states", initial_states)):
        if t is not None and not t.is_floating_point():
            raise TypeError(f"{name} must be a floating point tensor, got {t.dtype}")
    for name, t in (("dt", dt), ("A", A), ("B", B), ("C", C), ("D", D), ("z", z),
                    ("dt_bias", dt_bias), ("initial_states", initial_states), ("seq_idx", seq_idx)):
        if t is not None and t.device != x.device:
            raise ValueError(f"{name} is on {t.device} but x is on {x.device}: move all inputs to one device")
    check_chunk_size(chunk_size)
    lo, hi = dt_limit
    lo = -math.inf if lo is None else float(lo)
    hi = math.inf if hi is None else float(hi)
    if not lo <= hi:
        raise ValueError(f"dt_limit must be (lo, hi) with lo <= hi, got {dt_limit!r}")
    return lo, hi


def scan_kernel(impl):
    """The forward scan for impl ('fused' | 'chunked' | None -> _config.LAUNCH.scan_impl):
    ssd_fused_fwd or ssd_chunked_fwd (same arguments, returns (out, final | None))."""
    impl = _config.LAUNCH.scan_impl if impl is None else impl
    if impl == "fused":
        from .kernels.ssd_fused import ssd_fused_fwd as scan
    elif impl == "chunked":
        from .kernels.ssd_chunked import ssd_chunked_fwd as scan
    else:
        raise ValueError(f"impl must be one of {IMPLS} or None, got {impl!r}")
    return scan


def mamba_chunk_scan_combined(
    x, dt, A, B, C, chunk_size, D=None, z=None, dt_bias=None, initial_states=None,
    seq_idx=None, cu_seqlens=None, dt_softplus=False, dt_limit=(0.0, math.inf),
    return_final_states=False, return_varlen_states=False, *, impl=None,
):
    """SSD scan of a Mamba-2 block (forward).

    x: [b, l, h, p], dt: [b, l, h], A: [h], B, C: [b, l, g, n] (h % g == 0),
    D: [h] or [h, p], z: [b, l, h, p], dt_bias: [h], initial_states: [b, h, p, n],
    seq_idx: [b, l] int32 (state resets where it changes from t-1 to t).
    dt = clamp(softplus?(dt + dt_bias), *dt_limit); with z, out = (y + D x) * silu(z).
    impl: 'fused' | 'chunked' | None (None -> _config.LAUNCH.scan_impl).

    cu_seqlens: [nseq + 1] int32 (batch 1: packed sequences, see varlen.py), with
    return_varlen_states: also the final state of every sequence (no gradient).

    Returns out [b, l, h, p] in x.dtype, or (out, final_states fp32 [b, h, p, n])
    when return_final_states; return_varlen_states appends varlen_states fp32 [nseq, h, p, n].
    """
    from .autograd import needs_grad, ssd_scan_autograd  # autograd imports this module

    if cu_seqlens is not None or return_varlen_states:
        from .varlen import scan_varlen

        return scan_varlen(
            mamba_chunk_scan_combined, x, dt, A, B, C, chunk_size, D=D, z=z, dt_bias=dt_bias,
            initial_states=initial_states, seq_idx=seq_idx, cu_seqlens=cu_seqlens,
            dt_softplus=dt_softplus, dt_limit=dt_limit, return_final_states=return_final_states,
            return_varlen_states=return_varlen_states, impl=impl,
        )
    if torch.compiler.is_compiling():  # torch.compile: the kernels as opaque custom ops
        lo, hi = _check_inputs(x, dt, A, B, C, chunk_size, D, z, dt_bias, initial_states, seq_idx, dt_limit)
        res = _custom_ops.ssd_scan(x, dt, A, B, C, chunk_size, D, z, dt_bias, initial_states, seq_idx,
                                   dt_softplus, (lo, hi), _config.LAUNCH.scan_impl if impl is None else impl)
        return res if return_final_states else res[0]

    if needs_grad(x, dt, A, B, C, D, z, dt_bias, initial_states):
        return ssd_scan_autograd(
            x, dt, A, B, C, chunk_size, D=D, z=z, dt_bias=dt_bias, initial_states=initial_states,
            seq_idx=seq_idx, dt_softplus=dt_softplus, dt_limit=dt_limit,
            return_final_states=return_final_states, impl=impl,
        )
    lo, hi = _check_inputs(x, dt, A, B, C, chunk_size, D, z, dt_bias, initial_states, seq_idx, dt_limit)
    out, final_states = scan_kernel(impl)(
        x, dt, A, B, C, chunk_size, D=D, z=z, dt_bias=dt_bias, initial_states=initial_states,
        seq_idx=seq_idx, dt_softplus=dt_softplus, dt_limit=(lo, hi),
        return_final_states=return_final_states,
    )
    return (out, final_states) if return_final_states else out


from . import custom_ops as _custom_ops  # noqa: E402  (custom_ops imports the kernels)
