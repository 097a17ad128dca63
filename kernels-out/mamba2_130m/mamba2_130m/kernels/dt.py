# generated from examples/mamba2-130m.ts by @mamba2/codegen 0.1.0 -- do not edit
# ir-hash: ef1b2cd2430596bb1585ad29ffa31664da3751fe2ff6df5a5c1764461861285b
# copied from packages/kernels/python/mamba2_kernels/kernels/dt.py
"""dt prologue: dt = clamp(softplus?(dt + dt_bias), lo, hi), in fp32.

`softplus_f32` is shared with the chunked scan so both apply the same
transform bit for bit.
"""
from __future__ import annotations

import math

import torch
import triton
import triton.language as tl


def cdiv(a, b):
    """Host-side ceil(a / b). triton.cdiv goes through Triton's JIT call path,
    which costs microseconds per call; wrappers run on every forward."""
    return -(-a // b)


def next_pow2(n):
    """Host-side next power of two (1 for n <= 1), as triton.next_power_of_2."""
    return 1 << (n - 1).bit_length() if n > 1 else 1


@triton.jit
def softplus_f32(v):
    """softplus with the usual threshold (v > 20 -> v); log1p done by hand so
    small values keep their relative precision (log(1 + u) loses it)."""
    u = tl.exp(tl.minimum(v, 20.0))
    small = u * (1.0 - u * (0.5 - u * (0.3333333333333333 - u * 0.25)))
    sp = tl.where(u < 0.01, small, tl.log(1.0 + u))
    return tl.where(v > 20.0, v, sp)


@triton.jit
def _dt_transform_kernel(
    dt, dt_bias, out,
    L, H,
    stride_db, stride_dl, stride_dh,
    lo, hi,
    HAS_BIAS: tl.constexpr,
    SOFTPLUS: tl.constexpr,
    BLOCK_L: tl.constexpr,
    BLOCK_H: tl.constexpr,
):
    i_l = tl.program_id(0)
    i_b = tl.program_id(1).to(tl.int64)
    o_l = (i_l * BLOCK_L + tl.arange(0, BLOCK_L)).to(tl.int64)
    o_h = tl.arange(0, BLOCK_H)
    m_l = o_l < L
    m_h = o_h < H
    m = m_l[:, None] & m_h[None, :]

    p_dt = dt + i_b * stride_db + o_l[:, None] * stride_dl + o_h[None, :] * stride_dh
    b_v = tl.load(p_dt, mask=m, other=0.0).to(tl.float32)
    if HAS_BIAS:
        b_bias = tl.load(dt_bias + o_h, mask=m_h, other=0.0).to(tl.float32)
        b_v = b_v + b_bias[None, :]
    if SOFTPLUS:
        b_v = softplus_f32(b_v)
    b_v = tl.minimum(tl.maximum(b_v, lo), hi)

    p_out = out + i_b * L * H + o_l[:, None] * H + o_h[None, :]
    tl.store(p_out, b_v, mask=m)


def _limit_pair(limit):
    lo, hi = limit
    lo = -math.inf if lo is None else float(lo)
    hi = math.inf if hi is None else float(hi)
    return lo, hi


def dt_transform(dt, dt_bias=None, softplus=False, limit=(0.0, math.inf)):
    """dt prologue.

    dt: [B, L, H] (any strides), dt_bias: [H] | None, limit: (lo, hi), hi may be inf.
    Returns fp32 [B, L, H] contiguous: clamp(softplus?(dt + dt_bias), lo, hi),
    softplus(v) = v if v > 20 else log1p(exp(v)).
    """
    if dt.dim() != 3:
        raise ValueError(f"dt must be [B, L, H], got shape {tuple(dt.shape)}")
    Bsz, L, H = dt.shape
    if dt_bias is not None:
        if dt_bias.shape != (H,):
            raise ValueError(f"dt_bias must be [{H}], got {tuple(dt_bias.shape)}")
        dt_bias = dt_bias.contiguous()
    lo, hi = _limit_pair(limit)
    out = torch.empty((Bsz, L, H), device=dt.device, dtype=torch.float32)
    if out.numel() == 0:
        return out
    BLOCK_H = next_pow2(H)
    BLOCK_L = max(1, min(next_pow2(L), max(1, 2048 // BLOCK_H)))
    grid = (cdiv(L, BLOCK_L), Bsz)
    _dt_transform_kernel[grid](
        dt, dt_bias if dt_bias is not None else dt, out,
        L, H,
        dt.stride(0), dt.stride(1), dt.stride(2),
        lo, hi,
        HAS_BIAS=dt_bias is not None,
        SOFTPLUS=bool(softplus),
        BLOCK_L=BLOCK_L,
        BLOCK_H=BLOCK_H,
    )
    return out
