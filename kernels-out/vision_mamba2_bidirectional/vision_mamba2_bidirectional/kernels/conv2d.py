# generated from examples/vision-mamba2-bidirectional.ts by @mamba2/codegen 0.1.0 -- do not edit
# ir-hash: ecdc1a8c1f3908dbc9b3232a151982a82ea56e47204e629702db577caff5a69c
# copied from packages/kernels/python/mamba2_kernels/kernels/conv2d.py
"""Depthwise 2-D conv over an image of tokens (non-causal, padding 'same') + activation.

What VMamba runs before its cross scan: every channel convolved with its own
KH x KW filter over the H x W image, zero padding (KH // 2, KW // 2), so the
output has the input's size. Tokens are channels-last, [B, H, W, C] (the
row-major flattening of [B, H*W, C], as in_proj writes it). The activation is
a fragment (ACT, as in conv.py): a name of fragments.CONV_ACTIVATIONS, the
model's (_fragments.CONV_ACTIVATION), or any @triton.jit function v -> v.
"""
from __future__ import annotations

import torch
import triton
import triton.language as tl

from .fastlaunch import fast_launch
from .._config import LAUNCH
from .host import cdiv, conv_activation_for, next_pow2


@fast_launch
@triton.jit
def _dwconv2d_fwd_kernel(
    x, weight, bias, out,
    H, W, C,
    stride_xb, stride_xh, stride_xw,
    KH: tl.constexpr,
    KW: tl.constexpr,
    HAS_BIAS: tl.constexpr,
    ACT: tl.constexpr,
    BLOCK_L: tl.constexpr,
    BLOCK_C: tl.constexpr,
):
    i_l = tl.program_id(0)
    i_c = tl.program_id(1)
    i_b = tl.program_id(2).to(tl.int64)
    o_l = i_l * BLOCK_L + tl.arange(0, BLOCK_L)  # token index t = i * W + j
    o_c = i_c * BLOCK_C + tl.arange(0, BLOCK_C)
    m_l = o_l < H * W
    m_c = o_c < C
    o_i = o_l // W
    o_j = o_l % W

    p_x = x + i_b * stride_xb
    b_acc = tl.zeros((BLOCK_L, BLOCK_C), dtype=tl.float32)
    for di in tl.static_range(KH):
        for dj in tl.static_range(KW):
            # tap (di, dj) reads pixel (i + di - KH//2, j + dj - KW//2); outside the image is the zero padding
            o_ii = o_i + (di - KH // 2)
            o_jj = o_j + (dj - KW // 2)
            m_t = m_l & (o_ii >= 0) & (o_ii < H) & (o_jj >= 0) & (o_jj < W)
            o_t = o_ii.to(tl.int64) * stride_xh + o_jj.to(tl.int64) * stride_xw
            b_x = tl.load(p_x + o_t[:, None] + o_c[None, :], mask=m_t[:, None] & m_c[None, :], other=0.0)
            b_w = tl.load(weight + o_c * (KH * KW) + (di * KW + dj), mask=m_c, other=0.0).to(tl.float32)
            b_acc += b_x.to(tl.float32) * b_w[None, :]
    if HAS_BIAS:
        b_acc += tl.load(bias + o_c, mask=m_c, other=0.0).to(tl.float32)[None, :]
    b_acc = ACT(b_acc)

    p_out = out + (i_b * H * W + o_l.to(tl.int64)[:, None]) * C + o_c[None, :]
    tl.store(p_out, b_acc.to(out.dtype.element_ty), mask=m_l[:, None] & m_c[None, :])


def check_dwconv2d_args(x, weight, bias):
    """x: [B, H, W, C]; weight [C, KH, KW] or nn.Conv2d's [C, 1, KH, KW], odd KH and KW
    in 1..7; bias [C] | None. Returns the [C, KH, KW] weight."""
    if x.dim() != 4:
        raise ValueError(f"x must be [B, H, W, C] (channels last), got shape {tuple(x.shape)}")
    C = x.shape[-1]
    if weight.dim() == 4 and weight.shape[1] == 1:
        weight = weight[:, 0]
    if weight.dim() != 3 or weight.shape[0] != C:
        raise ValueError(f"weight must be [{C}, KH, KW] (or [{C}, 1, KH, KW]), got {tuple(weight.shape)}")
    kh, kw = weight.shape[1:]
    if not (kh % 2 == 1 and kw % 2 == 1 and 1 <= kh <= 7 and 1 <= kw <= 7):
        raise ValueError(f"kernel {kh}x{kw}: padding 'same' needs odd sizes in 1..7 (e.g. 3x3)")
    if bias is not None and tuple(bias.shape) != (C,):
        raise ValueError(f"bias must be [{C}], got {tuple(bias.shape)}")
    return weight


def depthwise_conv2d(x, weight, bias=None, activation="silu", *, block_l=None, block_c=None, num_warps=None):
    """Depthwise 2-D conv, padding 'same', then the activation.

    x: [B, H, W, C] (last dim contiguous, other strides arbitrary, e.g. a view of in_proj's output)
    weight: [C, KH, KW] (or nn.Conv2d's [C, 1, KH, KW]), KH and KW odd in 1..7
    bias: [C] | None; activation: "silu" | "identity" | a @triton.jit fragment v -> v.
    Returns [B, H, W, C] contiguous, dtype of x; accumulation in fp32.
    """
    weight = check_dwconv2d_args(x, weight, bias)
    act = conv_activation_for(activation)
    Bsz, H, W, C = x.shape
    kh, kw = weight.shape[1:]
    if x.stride(-1) != 1:
        x = x.contiguous()
    weight = weight.contiguous()
    bias = bias.contiguous() if bias is not None else None

    out = torch.empty((Bsz, H, W, C), device=x.device, dtype=x.dtype)
    if out.numel() == 0:
        return out
    block_l = block_l or LAUNCH.conv.block_l
    block_c = block_c or min(LAUNCH.conv.block_c, next_pow2(C))
    grid = (cdiv(H * W, block_l), cdiv(C, block_c), Bsz)
    _dwconv2d_fwd_kernel[grid](
        x, weight, bias if bias is not None else weight, out,
        H, W, C,
        x.stride(0), x.stride(1), x.stride(2),
        KH=kh, KW=kw,
        HAS_BIAS=bias is not None,
        ACT=act,
        BLOCK_L=block_l,
        BLOCK_C=block_c,
        num_warps=num_warps or LAUNCH.conv.num_warps,
    )
    return out
