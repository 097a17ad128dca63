# generated from examples/mamba2-simple.ts by @mamba2/codegen 0.1.0 -- do not edit
# ir-hash: 424e35b9a6cbde3f760cbbdda6581245b41bd18aa47e61809cb8681fa3b0ab69
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

from .fastlaunch import fast_launch
from ..fragments import dt_chain as standard_dt_chain
from .host import cdiv, dt_chain_for, limit_pair, next_pow2
from .ssd_common import LOG2E, dt_prologue, segment_cumsum, segment_ids, token_index


@fast_launch
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


# The scans' dt pre-kernel (the fused forward's T+pre path, the backward): the same
# dt chain per (b, t, h) as _dt_transform_kernel, plus the chunk-local cumsum.
@fast_launch
@triton.jit
def _ssd_dt_cumsum_kernel(
    dt, A, dt_bias, dtp, csp,
    L, H, LP,
    stride_dtb, stride_dtl, stride_dth,
    dt_lo, dt_hi,
    CHUNK: tl.constexpr,
    BLOCK_H: tl.constexpr,
    HAS_DT_BIAS: tl.constexpr,
    DT_SOFTPLUS: tl.constexpr,
    DT_CHAIN: tl.constexpr = standard_dt_chain,  # defaults: callers that pass neither (ssd_bwd)
    HAS_SEQ_IDX: tl.constexpr = False,
    seq_idx=None, stride_sb=0, stride_sl=0,
    ORDER: tl.constexpr = 0, HI=1, WI=1,
    RESETS: tl.constexpr = False, rsp=None,
):
    """dtp[b*h, t] = clamp(softplus?(dt + bias)) (0 past L), csp = its
    chunk-local cumsum times A log2(e) (restarted at sequence starts with seq_idx). Rows are LP = padded chunks * CHUNK
    long; every element is written (positions past L repeat the last sum).
    RESETS (the backward's chunk kernels; the forward compiles without it):
    also rsp [2, b*h, LP] fp32: row 0 the same cumsum with every -inf term
    (dt = inf, A < 0: a decay exp(-inf) = 0, a state reset) taken as 0, so
    finite; row 1 the reset code 2 * R + r, R = resets in the chunk up to and
    with t, r = 1 at a reset (exact small integers)."""
    i_c = tl.program_id(0)
    i_b = tl.program_id(1)
    i_hb = tl.program_id(2)
    o_q = tl.arange(0, CHUNK)
    o_h = i_hb * BLOCK_H + tl.arange(0, BLOCK_H)
    m_h = o_h < H
    o_t = i_c * CHUNK + o_q
    m_t = o_t < L
    m_th = m_t[:, None] & m_h[None, :]

    p_dt = dt + i_b.to(tl.int64) * stride_dtb
    o_tok = token_index(o_t, HI, WI, ORDER)  # the order's tokens (ORDER 0: o_t)
    b_dt = tl.load(p_dt + o_tok[:, None] * stride_dtl + o_h[None, :] * stride_dth, mask=m_th, other=0.0).to(tl.float32)
    if HAS_DT_BIAS:
        b_bias = tl.load(dt_bias + o_h, mask=m_h, other=0.0).to(tl.float32)[None, :]
    else:
        b_bias = 0.0
    b_a = tl.load(A + o_h, mask=m_h, other=0.0).to(tl.float32) * LOG2E
    if HAS_SEQ_IDX:  # the same counter for every head of the tile
        b_seg, _ = segment_ids(seq_idx + i_b.to(tl.int64) * stride_sb, stride_sl, o_t, m_t)
        b_seg = tl.broadcast_to(b_seg[:, None], (CHUNK, BLOCK_H))
    else:
        b_seg = 0
    b_dt, b_cs = dt_prologue(b_dt, b_bias, b_a[None, :], m_th, dt_lo, dt_hi, b_seg,
                             DT_CHAIN, HAS_DT_BIAS, DT_SOFTPLUS, HAS_SEQ_IDX)

    o_out = (i_b * H + o_h).to(tl.int64)[None, :] * LP + o_t[:, None]
    m_out = (o_t < LP)[:, None] & m_h[None, :]
    tl.store(dtp + o_out, b_dt, mask=m_out)
    tl.store(csp + o_out, b_cs, mask=m_out)
    if RESETS:  # the product as dt_prologue's: -inf exactly where its cumsum turns -inf
        b_v = b_dt * b_a[None, :]
        b_rst = b_v == -float("inf")
        b_v = tl.where(b_rst, 0.0, b_v)
        if HAS_SEQ_IDX:
            b_csr = segment_cumsum(b_v, b_seg)
        else:
            b_csr = tl.cumsum(b_v, axis=0)
        b_code = 2 * tl.cumsum(b_rst.to(tl.int32), axis=0) + b_rst.to(tl.int32)
        tl.store(rsp + o_out, b_csr, mask=m_out)
        tl.store(rsp + (i_b * 0 + H * tl.num_programs(1)).to(tl.int64) * LP + o_out, b_code.to(tl.float32),
                 mask=m_out)
