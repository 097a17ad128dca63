"""Backward of depthwise_conv2d (conv2d.py: depthwise 2-D conv, padding 'same', + activation).

With P = (KH // 2, KW // 2), pre[i, j, c] = sum_{di, dj} w[c, di, dj] x[i + di - Ph, j + dj - Pw, c] + bias[c]
(x zero outside the image) and out = act(pre):
    dpre = dout * act'(pre)
    dx[i, j, c] = sum_{di, dj} w[c, di, dj] dpre[i - di + Ph, j - dj + Pw, c]
    dw[c, di, dj] = sum_{b, i, j} dpre[i, j, c] x[i + di - Ph, j + dj - Pw, c],  dbias[c] = sum dpre[., ., c]
Two launches, as conv_bwd.py: the first recomputes pre, writes dpre (fp32)
and per-(batch, token-block) partials of dw and dbias; the second gathers dx
from dpre. The partials are reduced with torch.sum (deterministic, no atomics).
"""
from __future__ import annotations

import torch
import triton
import triton.language as tl

from .fastlaunch import fast_launch
from .._config import LAUNCH
from .conv2d import check_dwconv2d_args


@fast_launch
@triton.jit
def _dwconv2d_bwd_dpre_kernel(
    x, weight, bias, dout, dpre, dw_part, db_part,
    H, W, C, N_LBLOCKS,
    stride_xb, stride_xh, stride_xw,
    stride_ob, stride_oh, stride_ow,
    KH: tl.constexpr,
    KW: tl.constexpr,
    BLOCK_T: tl.constexpr,
    HAS_BIAS: tl.constexpr,
    SILU: tl.constexpr,
    BLOCK_L: tl.constexpr,
    BLOCK_C: tl.constexpr,
):
    i_l = tl.program_id(0)
    i_c = tl.program_id(1)
    i_b = tl.program_id(2).to(tl.int64)
    o_l = i_l * BLOCK_L + tl.arange(0, BLOCK_L)
    o_c = i_c * BLOCK_C + tl.arange(0, BLOCK_C)
    o_tap = tl.arange(0, BLOCK_T)
    m_l = o_l < H * W
    m_c = o_c < C
    m_lc = m_l[:, None] & m_c[None, :]
    o_i = o_l // W
    o_j = o_l % W

    p_x = x + i_b * stride_xb
    b_pre = tl.zeros((BLOCK_L, BLOCK_C), dtype=tl.float32)
    for di in tl.static_range(KH):
        for dj in tl.static_range(KW):
            o_ii = o_i + (di - KH // 2)
            o_jj = o_j + (dj - KW // 2)
            m_t = m_l & (o_ii >= 0) & (o_ii < H) & (o_jj >= 0) & (o_jj < W)
            o_t = o_ii.to(tl.int64) * stride_xh + o_jj.to(tl.int64) * stride_xw
            b_x = tl.load(p_x + o_t[:, None] + o_c[None, :], mask=m_t[:, None] & m_c[None, :], other=0.0)
            b_w = tl.load(weight + o_c * (KH * KW) + (di * KW + dj), mask=m_c, other=0.0).to(tl.float32)
            b_pre += b_x.to(tl.float32) * b_w[None, :]
    if HAS_BIAS:
        b_pre += tl.load(bias + o_c, mask=m_c, other=0.0).to(tl.float32)[None, :]

    o_do = i_b * stride_ob + o_i.to(tl.int64) * stride_oh + o_j.to(tl.int64) * stride_ow
    b_do = tl.load(dout + o_do[:, None] + o_c[None, :], mask=m_lc, other=0.0).to(tl.float32)
    if SILU:
        b_sig = tl.sigmoid(b_pre)
        b_dp = b_do * b_sig * (1.0 + b_pre * (1.0 - b_sig))
    else:
        b_dp = b_do
    b_dp = tl.where(m_lc, b_dp, 0.0)
    tl.store(dpre + (i_b * H * W + o_l.to(tl.int64)[:, None]) * C + o_c[None, :], b_dp, mask=m_lc)

    # partial dw [C, KH*KW] and dbias [C] of this (batch, token block)
    i_part = i_b * N_LBLOCKS + i_l
    b_dw = tl.zeros((BLOCK_C, BLOCK_T), dtype=tl.float32)
    for di in tl.static_range(KH):
        for dj in tl.static_range(KW):
            o_ii = o_i + (di - KH // 2)
            o_jj = o_j + (dj - KW // 2)
            m_t = m_l & (o_ii >= 0) & (o_ii < H) & (o_jj >= 0) & (o_jj < W)
            o_t = o_ii.to(tl.int64) * stride_xh + o_jj.to(tl.int64) * stride_xw
            b_x = tl.load(p_x + o_t[:, None] + o_c[None, :], mask=m_t[:, None] & m_c[None, :], other=0.0)
            b_col = tl.sum(b_dp * b_x.to(tl.float32), axis=0)
            b_dw += tl.where(o_tap[None, :] == di * KW + dj, b_col[:, None], 0.0)
    tl.store(dw_part + (i_part * C + o_c[:, None]) * (KH * KW) + o_tap[None, :], b_dw,
             mask=m_c[:, None] & (o_tap[None, :] < KH * KW))
    if HAS_BIAS:
        tl.store(db_part + i_part * C + o_c, tl.sum(b_dp, axis=0), mask=m_c)


@fast_launch
@triton.jit
def _dwconv2d_bwd_dx_kernel(
    dpre, weight, dx,
    H, W, C,
    KH: tl.constexpr,
    KW: tl.constexpr,
    BLOCK_L: tl.constexpr,
    BLOCK_C: tl.constexpr,
):
    i_l = tl.program_id(0)
    i_c = tl.program_id(1)
    i_b = tl.program_id(2).to(tl.int64)
    o_l = i_l * BLOCK_L + tl.arange(0, BLOCK_L)
    o_c = i_c * BLOCK_C + tl.arange(0, BLOCK_C)
    m_l = o_l < H * W
    m_c = o_c < C
    o_i = o_l // W
    o_j = o_l % W

    b_acc = tl.zeros((BLOCK_L, BLOCK_C), dtype=tl.float32)
    for di in tl.static_range(KH):
        for dj in tl.static_range(KW):
            # x[i, j] reached out[i - di + Ph, j - dj + Pw] through tap (di, dj)
            o_ii = o_i - (di - KH // 2)
            o_jj = o_j - (dj - KW // 2)
            m_t = m_l & (o_ii >= 0) & (o_ii < H) & (o_jj >= 0) & (o_jj < W)
            o_t = i_b * H * W + o_ii.to(tl.int64) * W + o_jj
            b_dp = tl.load(dpre + o_t[:, None] * C + o_c[None, :], mask=m_t[:, None] & m_c[None, :], other=0.0)
            b_w = tl.load(weight + o_c * (KH * KW) + (di * KW + dj), mask=m_c, other=0.0).to(tl.float32)
            b_acc += b_dp * b_w[None, :]
    tl.store(dx + (i_b * H * W + o_l.to(tl.int64)[:, None]) * C + o_c[None, :],
             b_acc.to(dx.dtype.element_ty), mask=m_l[:, None] & m_c[None, :])


_ACTIVATIONS = {"silu": True, "swish": True, "identity": False, None: False}


def depthwise_conv2d_bwd(dout, x, weight, bias=None, activation="silu", *, block_l=None, block_c=None,
                         num_warps=None):
    """Gradients of depthwise_conv2d.

    dout, x: [B, H, W, C] (last dim contiguous, other strides arbitrary),
    weight: [C, KH, KW] (or [C, 1, KH, KW]), bias: [C] | None, activation "silu" | "identity".
    Returns (dx [B, H, W, C] in x.dtype, dweight [C, KH, KW] fp32, dbias [C] fp32 | None).
    """
    if activation not in _ACTIVATIONS:
        raise ValueError(f"the conv2d backward knows 'silu' and 'identity', got {activation!r}")
    weight = check_dwconv2d_args(x, weight, bias)
    Bsz, H, W, C = x.shape
    kh, kw = weight.shape[1:]
    if tuple(dout.shape) != tuple(x.shape):
        raise ValueError(f"dout must have x's shape {tuple(x.shape)}, got {tuple(dout.shape)}")
    if x.stride(-1) != 1:
        x = x.contiguous()
    if dout.stride(-1) != 1:
        dout = dout.contiguous()
    weight = weight.contiguous()
    bias = bias.contiguous() if bias is not None else None
    # the taps of x are loaded twice (pre, then dw): half the forward's token tile keeps register use down
    block_l = block_l or max(16, LAUNCH.conv.block_l // 2)
    block_c = block_c or min(LAUNCH.conv.block_c, triton.next_power_of_2(C))
    n_lb = triton.cdiv(H * W, block_l)
    grid = (n_lb, triton.cdiv(C, block_c), Bsz)
    dev = x.device

    dpre = torch.empty((Bsz, H * W, C), device=dev, dtype=torch.float32)
    dw_part = torch.empty((Bsz * n_lb, C, kh * kw), device=dev, dtype=torch.float32)
    db_part = torch.empty((Bsz * n_lb, C), device=dev, dtype=torch.float32) if bias is not None else None
    _dwconv2d_bwd_dpre_kernel[grid](
        x, weight, bias if bias is not None else weight, dout, dpre, dw_part,
        db_part if db_part is not None else dw_part,
        H, W, C, n_lb,
        x.stride(0), x.stride(1), x.stride(2),
        dout.stride(0), dout.stride(1), dout.stride(2),
        KH=kh, KW=kw,
        BLOCK_T=triton.next_power_of_2(kh * kw),
        HAS_BIAS=bias is not None,
        SILU=_ACTIVATIONS[activation],
        BLOCK_L=block_l,
        BLOCK_C=block_c,
        num_warps=num_warps or LAUNCH.conv.num_warps,
    )
    dx = torch.empty((Bsz, H, W, C), device=dev, dtype=x.dtype)
    _dwconv2d_bwd_dx_kernel[grid](
        dpre, weight, dx, H, W, C,
        KH=kh, KW=kw, BLOCK_L=block_l, BLOCK_C=block_c,
        num_warps=num_warps or LAUNCH.conv.num_warps,
    )
    dweight = dw_part.sum(0).reshape(C, kh, kw)
    dbias = db_part.sum(0) if db_part is not None else None
    return dx, dweight, dbias
