# generated from examples/vision-mamba2-bidirectional.ts by @mamba2/codegen 0.1.0 -- do not edit
# ir-hash: ecdc1a8c1f3908dbc9b3232a151982a82ea56e47204e629702db577caff5a69c
# copied from packages/kernels/python/mamba2_kernels/kernels/dt.py
"""dt prologue as its own op: dt = clamp(softplus?(dt + dt_bias), lo, hi), in fp32.

The transform is the dt chain fragment (fragments.dt_chain, or the model's
from _fragments.py), the same one the scans apply inside their kernels
(ssd_common.dt_prologue), so all give the same dt bit for bit.
"""
from __future__ import annotations

import math

import torch
import triton
import triton.language as tl

from .host import cdiv, dt_chain_for, limit_pair, next_pow2


@triton.jit
def _dt_transform_kernel(
    dt, dt_bias, out,
    L, H,
    stride_db, stride_dl, stride_dh,
    lo, hi,
    DT_CHAIN: tl.constexpr,
    HAS_DT_BIAS: tl.constexpr,
    DT_SOFTPLUS: tl.constexpr,
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
    if HAS_DT_BIAS:
        b_bias = tl.load(dt_bias + o_h, mask=m_h, other=0.0).to(tl.float32)[None, :]
    else:
        b_bias = 0.0
    b_v = DT_CHAIN(b_v, b_bias, lo, hi, HAS_DT_BIAS, DT_SOFTPLUS)

    p_out = out + i_b * L * H + o_l[:, None] * H + o_h[None, :]
    tl.store(p_out, b_v, mask=m)


def dt_transform(dt, dt_bias=None, softplus=False, limit=(0.0, math.inf), *, chain=None):
    """dt prologue.

    dt: [B, L, H] (any strides), dt_bias: [H] | None, limit: (lo, hi), hi may be inf.
    Returns fp32 [B, L, H] contiguous: clamp(softplus?(dt + dt_bias), lo, hi),
    softplus(v) = v if v > 20 else log1p(exp(v)).
    chain: a dt chain fragment to use instead (see fragments.py).
    """
    if dt.dim() != 3:
        raise ValueError(f"dt must be [B, L, H], got shape {tuple(dt.shape)}")
    Bsz, L, H = dt.shape
    if dt_bias is not None:
        if dt_bias.shape != (H,):
            raise ValueError(f"dt_bias must be [{H}], got {tuple(dt_bias.shape)}")
        dt_bias = dt_bias.contiguous()
    lo, hi = limit_pair(limit)
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
        DT_CHAIN=dt_chain_for(dt_bias is not None, softplus, chain),
        HAS_DT_BIAS=dt_bias is not None,
        DT_SOFTPLUS=bool(softplus),
        BLOCK_L=BLOCK_L,
        BLOCK_H=BLOCK_H,
    )
    return out
