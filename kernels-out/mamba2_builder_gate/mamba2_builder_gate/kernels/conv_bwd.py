# generated from examples/mamba2-builder-gate.ts by @mamba2/codegen 0.1.0 -- do not edit
# ir-hash: 199ee129cb1192e6e2631245c55af3764dd8e1c0b74922375a8d5a6f5ae3dc58
# copied from packages/kernels/python/mamba2_kernels/kernels/conv_bwd.py
"""Backward of causal_conv1d (depthwise causal conv over time + activation).

With pre[t, c] = sum_k w[c, k] x[t - (W-1-k), c] + bias[c] and out = act(pre):
    dpre = dout * act'(pre)
    dx[s, c] = sum_k w[c, k] dpre[s + (W-1-k), c]
    dw[c, k] = sum_{b, t} dpre[t, c] x[t - (W-1-k), c],  dbias[c] = sum_{b, t} dpre[t, c]
Two launches: the first recomputes pre, writes dpre (fp32) and per-(batch,
L-block) partials of dw and dbias; the second gathers dx from dpre. The
partials are reduced with torch.sum (deterministic, no atomics). Forms with
fewer DRAM bytes measured slower on the H200 (NOTES.md, 2026-12-02): one
launch recomputing dpre at the W shifts (1.14 ms vs 0.96 at (4, 4096, 5376)),
and one passing dpre through an L2 scratch tile (1.04-4.3 ms).
"""
from __future__ import annotations

import torch
import triton
import triton.language as tl

from .fastlaunch import fast_launch
from .._config import LAUNCH


@fast_launch
@triton.jit
def _causal_conv1d_bwd_dpre_kernel(
    x, weight, bias, dout, dout1, dout2, dpre, dw_part, db_part,
    L, C, N_LBLOCKS, C1, C2,
    stride_xb, stride_xl,
    stride_ob, stride_ol,
    stride_o1b, stride_o1l,
    stride_o2b, stride_o2l,
    THREE_PIECES: tl.constexpr,
    WIDTH: tl.constexpr,
    BLOCK_W: tl.constexpr,
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
    o_w = tl.arange(0, BLOCK_W)
    m_l = o_l < L
    m_c = o_c < C
    m_lc = m_l[:, None] & m_c[None, :]

    p_x = x + i_b * stride_xb
    b_pre = tl.zeros((BLOCK_L, BLOCK_C), dtype=tl.float32)
    for k in tl.static_range(WIDTH):
        o_t = o_l - (WIDTH - 1 - k)
        m_t = (o_t >= 0) & (o_t < L)
        b_x = tl.load(p_x + o_t.to(tl.int64)[:, None] * stride_xl + o_c[None, :],
                      mask=m_t[:, None] & m_c[None, :], other=0.0).to(tl.float32)
        b_w = tl.load(weight + o_c * WIDTH + k, mask=m_c, other=0.0).to(tl.float32)
        b_pre += b_x * b_w[None, :]
    if HAS_BIAS:
        b_pre += tl.load(bias + o_c, mask=m_c, other=0.0).to(tl.float32)[None, :]

    o_l64 = o_l.to(tl.int64)[:, None]
    c_lo = i_c * BLOCK_C
    c_hi = c_lo + BLOCK_C
    # dout may be three tensors side by side: channels [0, C1), [C1, C2), [C2, C). A tile inside one
    # piece reads it with plain contiguous offsets (call28: the per-element select of offsets below made
    # the whole dpre launch 1.10 ms instead of 0.61 at d_model 2560); only a tile across a boundary
    # takes the three masked loads.
    if not THREE_PIECES:
        b_do = tl.load(dout + i_b * stride_ob + o_l64 * stride_ol + o_c[None, :],
                       mask=m_lc, other=0.0).to(tl.float32)
    elif c_hi <= C1:
        b_do = tl.load(dout + i_b * stride_ob + o_l64 * stride_ol + o_c[None, :],
                       mask=m_lc, other=0.0).to(tl.float32)
    elif (c_lo >= C1) & (c_hi <= C2):
        b_do = tl.load(dout1 + i_b * stride_o1b + o_l64 * stride_o1l + (o_c - C1)[None, :],
                       mask=m_lc, other=0.0).to(tl.float32)
    elif c_lo >= C2:
        b_do = tl.load(dout2 + i_b * stride_o2b + o_l64 * stride_o2l + (o_c - C2)[None, :],
                       mask=m_lc, other=0.0).to(tl.float32)
    else:
        m_0 = o_c < C1
        m_1 = (o_c >= C1) & (o_c < C2)
        m_2 = o_c >= C2
        b_do = tl.load(dout + i_b * stride_ob + o_l64 * stride_ol + tl.where(m_0, o_c, 0)[None, :],
                       mask=m_lc & m_0[None, :], other=0.0).to(tl.float32)
        b_do += tl.load(dout1 + i_b * stride_o1b + o_l64 * stride_o1l + tl.where(m_1, o_c - C1, 0)[None, :],
                        mask=m_lc & m_1[None, :], other=0.0).to(tl.float32)
        b_do += tl.load(dout2 + i_b * stride_o2b + o_l64 * stride_o2l + tl.where(m_2, o_c - C2, 0)[None, :],
                        mask=m_lc & m_2[None, :], other=0.0).to(tl.float32)
    if SILU:
        b_sig = tl.sigmoid(b_pre)
        b_dp = b_do * b_sig * (1.0 + b_pre * (1.0 - b_sig))
    else:
        b_dp = b_do
    b_dp = tl.where(m_lc, b_dp, 0.0)
    tl.store(dpre + (i_b * L + o_l.to(tl.int64)[:, None]) * C + o_c[None, :], b_dp.to(dpre.dtype.element_ty),
             mask=m_lc)

    # partial dw [C, W] and dbias [C] of this (batch, L-block)
    i_part = i_b * N_LBLOCKS + i_l
    b_dw = tl.zeros((BLOCK_C, BLOCK_W), dtype=tl.float32)
    for k in tl.static_range(WIDTH):
        o_t = o_l - (WIDTH - 1 - k)
        m_t = (o_t >= 0) & (o_t < L)
        b_x = tl.load(p_x + o_t.to(tl.int64)[:, None] * stride_xl + o_c[None, :],
                      mask=m_t[:, None] & m_c[None, :], other=0.0).to(tl.float32)
        b_col = tl.sum(b_dp * b_x, axis=0)
        b_dw += tl.where(o_w[None, :] == k, b_col[:, None], 0.0)
    tl.store(dw_part + (i_part * C + o_c[:, None]) * WIDTH + o_w[None, :], b_dw,
             mask=m_c[:, None] & (o_w[None, :] < WIDTH))
    if HAS_BIAS:
        tl.store(db_part + i_part * C + o_c, tl.sum(b_dp, axis=0), mask=m_c)


@fast_launch
@triton.jit
def _causal_conv1d_bwd_dx_kernel(
    dpre, weight, dx,
    L, C,
    stride_dxb, stride_dxl,
    WIDTH: tl.constexpr,
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

    b_acc = tl.zeros((BLOCK_L, BLOCK_C), dtype=tl.float32)
    for k in tl.static_range(WIDTH):
        # x[s] reached out[s + (W-1-k)] through tap k
        o_t = o_l + (WIDTH - 1 - k)
        m_t = o_t < L
        b_dp = tl.load(dpre + (i_b * L + o_t.to(tl.int64)[:, None]) * C + o_c[None, :],
                       mask=m_t[:, None] & m_c[None, :], other=0.0).to(tl.float32)
        b_w = tl.load(weight + o_c * WIDTH + k, mask=m_c, other=0.0).to(tl.float32)
        b_acc += b_dp * b_w[None, :]
    tl.store(dx + i_b * stride_dxb + o_l.to(tl.int64)[:, None] * stride_dxl + o_c[None, :],
             b_acc.to(dx.dtype.element_ty), mask=m_l[:, None] & m_c[None, :])


_ACTIVATIONS = {"silu": True, "swish": True, "identity": False, None: False}


def _rows(t):
    """t [B, L, c] with its last dim contiguous (a copy only when it is not)."""
    return t if t.stride(-1) == 1 else t.contiguous()


def causal_conv1d_bwd(dout, x, weight, bias=None, activation="silu", *, dx_out=None, dpre_dtype=None,
                      block_l=None, block_c=None, num_warps=None):
    """Gradients of causal_conv1d.

    dout: [B, L, C], or a tuple of three [B, L, C_i] pieces that sum to C
    channels, read in place (each in its own dtype and row strides: the
    block's dx, dB, dC of the scan backward, with no cat);
    x: [B, L, C] (last dim contiguous, other strides arbitrary),
    weight: [C, W], bias: [C] | None.
    dx_out: [B, L, C] in x.dtype with a contiguous last dim (e.g. the columns
    of a larger gradient buffer) receives dx; None allocates it.
    dpre_dtype: the dtype dpre crosses HBM in between the two launches (None: fp32).
    torch.bfloat16 halves those bytes (0.35 -> 0.18 GB each way at d_model 2560) and
    rounds dpre once more before dx's W-term sum (dweight, dbias use the fp32 value
    in registers); timed as conv_bench.py's "bf16dpre" form, not the default until measured.
    Returns (dx [B, L, C] in x.dtype, dweight [C, W] fp32, dbias [C] fp32 | None).
    """
    Bsz, L, C = x.shape
    width = weight.shape[1]
    x = _rows(x)
    pieces = tuple(_rows(t) for t in dout) if isinstance(dout, (tuple, list)) else (_rows(dout),)
    if len(pieces) not in (1, 3) or sum(t.shape[-1] for t in pieces) != C or any(
            tuple(t.shape[:2]) != (Bsz, L) for t in pieces):
        raise ValueError(
            f"dout must be [B, L, C] = {(Bsz, L, C)} or three [B, L, C_i] pieces whose C_i sum to {C}, "
            f"got shapes {[tuple(t.shape) for t in pieces]}")
    c1 = pieces[0].shape[-1] if len(pieces) == 3 else C
    c2 = c1 + pieces[1].shape[-1] if len(pieces) == 3 else C
    p1, p2 = (pieces[1], pieces[2]) if len(pieces) == 3 else (pieces[0], pieces[0])
    weight = weight.contiguous()
    bias = bias.contiguous() if bias is not None else None
    # the forward's tile (64 rows): 0.74 ms at (4, 4096, 5376) and 0.46 at (8, 2048, 3328) on the H200
    # against 1.00 / 0.64 at half of it (32 rows, the default before), 0.97 / 0.61 at 128 rows on 8 warps
    # (scripts/gpu/conv_bench.py, call25 of 2026-12-02; a one-launch form that passes dpre through an L2
    # scratch tile measured 1.04-4.3 ms there, latency-bound, and was not kept)
    block_l = block_l or LAUNCH.conv.block_l
    block_c = block_c or min(LAUNCH.conv.block_c, triton.next_power_of_2(C))
    n_lb = triton.cdiv(L, block_l)
    grid = (n_lb, triton.cdiv(C, block_c), Bsz)
    dev = x.device

    dpre = torch.empty((Bsz, L, C), device=dev, dtype=dpre_dtype or torch.float32)
    dw_part = torch.empty((Bsz * n_lb, C, width), device=dev, dtype=torch.float32)
    db_part = torch.empty((Bsz * n_lb, C), device=dev, dtype=torch.float32) if bias is not None else None
    _causal_conv1d_bwd_dpre_kernel[grid](
        x, weight, bias if bias is not None else weight, pieces[0], p1, p2, dpre, dw_part,
        db_part if db_part is not None else dw_part,
        L, C, n_lb, c1, c2,
        x.stride(0), x.stride(1),
        pieces[0].stride(0), pieces[0].stride(1),
        p1.stride(0), p1.stride(1),
        p2.stride(0), p2.stride(1),
        THREE_PIECES=len(pieces) == 3,
        WIDTH=width,
        BLOCK_W=triton.next_power_of_2(width),
        HAS_BIAS=bias is not None,
        SILU=_ACTIVATIONS[activation],
        BLOCK_L=block_l,
        BLOCK_C=block_c,
        num_warps=num_warps or LAUNCH.conv.num_warps,
    )
    if dx_out is None:
        dx = torch.empty((Bsz, L, C), device=dev, dtype=x.dtype)
    else:
        if tuple(dx_out.shape) != (Bsz, L, C) or dx_out.stride(-1) != 1 or dx_out.dtype != x.dtype:
            raise ValueError(
                f"dx_out must be [B, L, C] = {(Bsz, L, C)} in {x.dtype} with a contiguous last dim, got "
                f"shape {tuple(dx_out.shape)}, dtype {dx_out.dtype}, strides {dx_out.stride()}")
        dx = dx_out
    _causal_conv1d_bwd_dx_kernel[grid](
        dpre, weight, dx, L, C,
        dx.stride(0), dx.stride(1),
        WIDTH=width, BLOCK_L=block_l, BLOCK_C=block_c,
        num_warps=num_warps or LAUNCH.conv.num_warps,
    )
    dweight = dw_part.sum(0)
    dbias = db_part.sum(0) if db_part is not None else None
    return dx, dweight, dbias
