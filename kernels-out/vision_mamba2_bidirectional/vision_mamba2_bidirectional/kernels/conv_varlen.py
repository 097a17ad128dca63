# generated from examples/vision-mamba2-bidirectional.ts by @mamba2/codegen 0.1.0 -- do not edit
# ir-hash: ecdc1a8c1f3908dbc9b3232a151982a82ea56e47204e629702db577caff5a69c
# copied from packages/kernels/python/mamba2_kernels/kernels/conv_varlen.py
"""Depthwise causal conv1d that does not leak across packed sequences.

With seq_idx [B, L] (the sequence each position belongs to), tap k of output t
reads input t - (W - 1 - k) only when that position has seq_idx[t]: every
packed sequence sees zero padding before its first token, as if it were
alone. The forward is a Triton kernel; the backward is W masked shifts in
torch (the same sums, written out), used for training on packed batches.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
import triton
import triton.language as tl

from .fastlaunch import fast_launch
from .._config import LAUNCH
from .host import cdiv, next_pow2


@fast_launch
@triton.jit
def _causal_conv1d_varlen_fwd_kernel(
    x, weight, bias, seq_idx, out,
    L, C,
    stride_xb, stride_xl,
    stride_sb, stride_sl,
    WIDTH: tl.constexpr,
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
    m_l = o_l < L
    m_c = o_c < C
    p_x = x + i_b * stride_xb
    p_s = seq_idx + i_b * stride_sb
    b_seq = tl.load(p_s + o_l.to(tl.int64) * stride_sl, mask=m_l, other=-1)
    b_acc = tl.zeros((BLOCK_L, BLOCK_C), dtype=tl.float32)
    for k in tl.static_range(WIDTH):
        o_t = o_l - (WIDTH - 1 - k)
        m_t = (o_t >= 0) & (o_t < L)
        b_st = tl.load(p_s + o_t.to(tl.int64) * stride_sl, mask=m_t, other=-2)
        m_t = m_t & (b_st == b_seq)
        b_x = tl.load(
            p_x + o_t.to(tl.int64)[:, None] * stride_xl + o_c[None, :],
            mask=m_t[:, None] & m_c[None, :], other=0.0,
        ).to(tl.float32)
        b_w = tl.load(weight + o_c * WIDTH + k, mask=m_c, other=0.0).to(tl.float32)
        b_acc += b_x * b_w[None, :]
    if HAS_BIAS:
        b_acc += tl.load(bias + o_c, mask=m_c, other=0.0).to(tl.float32)[None, :]
    if SILU:
        b_acc = b_acc * tl.sigmoid(b_acc)
    p_out = out + i_b * L * C + o_l.to(tl.int64)[:, None] * C + o_c[None, :]
    tl.store(p_out, b_acc.to(out.dtype.element_ty), mask=m_l[:, None] & m_c[None, :])


def _check(x, weight, bias, seq_idx, activation):
    if x.dim() != 3:
        raise ValueError(f"x must be [B, L, C], got shape {tuple(x.shape)}")
    if weight.dim() == 3 and weight.shape[1] == 1:
        weight = weight[:, 0, :]
    if weight.dim() != 2 or weight.shape[0] != x.shape[2] or not 2 <= weight.shape[1] <= 8:
        raise ValueError(f"weight must be [{x.shape[2]}, W] with 2 <= W <= 8, got {tuple(weight.shape)}")
    if bias is not None and tuple(bias.shape) != (x.shape[2],):
        raise ValueError(f"bias must be [{x.shape[2]}], got {tuple(bias.shape)}")
    if tuple(seq_idx.shape) != tuple(x.shape[:2]):
        raise ValueError(f"seq_idx must be [batch, seqlen] = {tuple(x.shape[:2])}, got {tuple(seq_idx.shape)}")
    if activation not in ("silu", "swish", "identity", None):
        raise ValueError(f"activation must be 'silu' or 'identity', got {activation!r}")
    return weight


def causal_conv1d_varlen(x, weight, bias, seq_idx, activation="silu", *, block_l=None, block_c=None):
    """causal_conv1d with the window cut at every change of seq_idx.

    x: [B, L, C] (last dim contiguous), weight: [C, W] or [C, 1, W], bias: [C] | None,
    seq_idx: [B, L] int. Returns [B, L, C] contiguous in x.dtype (fp32 accumulation).
    """
    weight = _check(x, weight, bias, seq_idx, activation).contiguous()
    Bsz, L, C = x.shape
    if x.stride(-1) != 1:
        x = x.contiguous()
    out = torch.empty((Bsz, L, C), device=x.device, dtype=x.dtype)
    if out.numel() == 0:
        return out
    block_l = block_l or LAUNCH.conv.block_l
    block_c = block_c or min(LAUNCH.conv.block_c, next_pow2(C))
    _causal_conv1d_varlen_fwd_kernel[(cdiv(L, block_l), cdiv(C, block_c), Bsz)](
        x, weight, bias.contiguous() if bias is not None else weight, seq_idx, out,
        L, C,
        x.stride(0), x.stride(1),
        seq_idx.stride(0), seq_idx.stride(1),
        WIDTH=weight.shape[1], HAS_BIAS=bias is not None, SILU=activation in ("silu", "swish"),
        BLOCK_L=block_l, BLOCK_C=block_c, num_warps=LAUNCH.conv.num_warps,
    )
    return out


def _taps(x, seq_idx, width):
    """[W] of (x shifted by W-1-k along time, zero where it crosses a sequence start), fp32."""
    L = x.shape[1]
    xs = []
    for k in range(width):
        s = width - 1 - k
        shifted = F.pad(x.float(), (0, 0, s, 0))[:, :L]
        same = torch.zeros_like(seq_idx, dtype=torch.bool)
        same[:, s:] = seq_idx[:, s:] == seq_idx[:, : L - s]
        xs.append(torch.where(same[..., None], shifted, 0.0))  # not * same: 0 * NaN leaks a NaN across
    return xs


def causal_conv1d_varlen_bwd(dout, x, weight, bias, seq_idx, activation="silu"):
    """Gradients of causal_conv1d_varlen: (dx in x.dtype, dweight [C, W] fp32, dbias [C] fp32 | None)."""
    weight = _check(x, weight, bias, seq_idx, activation).float()
    width = weight.shape[1]
    L = x.shape[1]
    taps = _taps(x, seq_idx, width)
    pre = sum(t * weight[:, k] for k, t in enumerate(taps))
    if bias is not None:
        pre = pre + bias.float()
    dpre = dout.float()
    if activation in ("silu", "swish"):
        sig = torch.sigmoid(pre)
        dpre = dpre * sig * (1 + pre * (1 - sig))
    dw = torch.stack([(dpre * t).sum((0, 1)) for t in taps], dim=1)
    db = dpre.sum((0, 1)) if bias is not None else None
    dx = torch.zeros_like(dpre)
    for k in range(width):
        s = width - 1 - k
        # output t + s read input t through tap k, when both lie in one sequence
        same = torch.zeros_like(seq_idx, dtype=torch.bool)
        same[:, : L - s] = seq_idx[:, s:] == seq_idx[:, : L - s]
        contrib = F.pad(dpre, (0, 0, 0, s))[:, s:] * weight[:, k]
        dx += torch.where(same[..., None], contrib, 0.0)
    return dx.to(x.dtype), dw, db
