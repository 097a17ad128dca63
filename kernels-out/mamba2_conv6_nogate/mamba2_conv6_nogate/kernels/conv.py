# generated from examples/mamba2-conv6-nogate.ts by @mamba2/codegen 0.1.0 -- do not edit
# ir-hash: eebdfa7a3668408e525ad80831102a176639dfbfef15bfab2177212a68e43ddc
# copied from packages/kernels/python/mamba2_kernels/kernels/conv.py
"""Depthwise causal conv1d over time (left padding WIDTH-1) + activation.

The activation is a fragment (ACT, see fragments.py): a name of
fragments.CONV_ACTIVATIONS, the model's (_fragments.CONV_ACTIVATION under
_fragments.CONV_ACTIVATION_NAME), or any @triton.jit function v -> v.
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
def _causal_conv1d_fwd_kernel(
    x, weight, bias, out,
    L, C,
    stride_xb, stride_xl,
    WIDTH: tl.constexpr,
    HAS_BIAS: tl.constexpr,
    ACT: tl.constexpr,
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
    b_acc = tl.zeros((BLOCK_L, BLOCK_C), dtype=tl.float32)
    for k in tl.static_range(WIDTH):
        # tap k sees time t - (WIDTH - 1 - k); negative times are the zero padding
        o_t = o_l - (WIDTH - 1 - k)
        m_t = (o_t >= 0) & (o_t < L)
        b_x = tl.load(
            p_x + o_t.to(tl.int64)[:, None] * stride_xl + o_c[None, :],
            mask=m_t[:, None] & m_c[None, :], other=0.0,
        ).to(tl.float32)
        b_w = tl.load(weight + o_c * WIDTH + k, mask=m_c, other=0.0).to(tl.float32)
        b_acc += b_x * b_w[None, :]
    if HAS_BIAS:
        b_bias = tl.load(bias + o_c, mask=m_c, other=0.0).to(tl.float32)
        b_acc += b_bias[None, :]
    b_acc = ACT(b_acc)

    p_out = out + i_b * L * C + o_l.to(tl.int64)[:, None] * C + o_c[None, :]
    tl.store(p_out, b_acc.to(out.dtype.element_ty), mask=m_l[:, None] & m_c[None, :])


def causal_conv1d(x, weight, bias=None, activation="silu", *, block_l=None, block_c=None, num_warps=None):
    """Depthwise causal conv over time, then the activation.

    x: [B, L, C] (last dim contiguous, other strides arbitrary, e.g. a slice of in_proj's output)
    weight: [C, W] (or nn.Conv1d's [C, 1, W]), 2 <= W <= 8
    bias: [C] | None; activation: "silu" | "identity" | a @triton.jit fragment v -> v.
    Returns [B, L, C] contiguous, dtype of x; accumulation in fp32.
    """
    if x.dim() != 3:
        raise ValueError(f"x must be [B, L, C], got shape {tuple(x.shape)}")
    act = conv_activation_for(activation)
    Bsz, L, C = x.shape
    if weight.dim() == 3 and weight.shape[1] == 1:
        weight = weight[:, 0, :]
    if weight.dim() != 2 or weight.shape[0] != C:
        raise ValueError(f"weight must be [{C}, W], got {tuple(weight.shape)}")
    width = weight.shape[1]
    if not 2 <= width <= 8:
        raise ValueError(f"conv width {width} is outside 2..8")
    if bias is not None and bias.shape != (C,):
        raise ValueError(f"bias must be [{C}], got {tuple(bias.shape)}")
    if x.stride(-1) != 1:
        x = x.contiguous()
    weight = weight.contiguous()
    bias = bias.contiguous() if bias is not None else None

    out = torch.empty((Bsz, L, C), device=x.device, dtype=x.dtype)
    if out.numel() == 0:
        return out
    block_l = block_l or LAUNCH.conv.block_l
    block_c = block_c or min(LAUNCH.conv.block_c, next_pow2(C))
    grid = (cdiv(L, block_l), cdiv(C, block_c), Bsz)
    _causal_conv1d_fwd_kernel[grid](
        x, weight, bias if bias is not None else weight, out,
        L, C,
        x.stride(0), x.stride(1),
        WIDTH=width,
        HAS_BIAS=bias is not None,
        ACT=act,
        BLOCK_L=block_l,
        BLOCK_C=block_c,
        num_warps=num_warps or LAUNCH.conv.num_warps,
    )
    return out
