# generated from examples/mamba2-stateful.ts by @mamba2/codegen 0.1.0 -- do not edit
# ir-hash: 28c133f5208b79443bad7b2823c4e58c73662dcc204c1fd05b08cd746e622021
# copied from packages/kernels/python/mamba2_kernels/kernels/conv_bwd.py
"""Backward of causal_conv1d (depthwise causal conv over time + activation).

With pre[t, c] = sum_k w[c, k] x[t - (W-1-k), c] + bias[c] and out = act(pre):
    dpre = dout * act'(pre)
    dx[s, c] = sum_k w[c, k] dpre[s + (W-1-k), c]
    dw[c, k] = sum_{b, t} dpre[t, c] x[t - (W-1-k), c],  dbias[c] = sum_{b, t} dpre[t, c]
Two forms (CONV_BWD_IMPL; env MAMBA2_CONV_BWD):
  'two'      two launches: the first recomputes pre, writes dpre (fp32) and
             per-(batch, L-block) partials of dw and dbias; the second
             gathers dx from dpre (0.96 ms at (4, 4096, 5376) on the H200,
             5x its bytes: block_profile.py, 2026-12-02).
  'scratch'  one launch, programs along L: each recomputes pre for its tile
             and the W-1 rows after it (the W taps as one [L, C, W] load), keeps
             the dw / dbias sums in registers over its L range, and passes
             dpre to its own dx rows through a private fp32 scratch tile that
             stays in L2 (a CTA barrier orders the store and the shifted
             loads). DRAM traffic: x, dout and dx once.
The partials are reduced with torch.sum (deterministic, no atomics).
"""
from __future__ import annotations

import torch
import triton
import triton.language as tl

import os

from .._config import LAUNCH
from .host import loop_count

# the form and its tiles: "two" | "two:BLOCK_L:WARPS" | "scratch" | "scratch:BLOCK_L:BLOCK_C:WARPS"
# (env MAMBA2_CONV_BWD; scripts/gpu/conv_bench.py times them); "two" is the measured default
CONV_BWD_IMPL = os.environ.get("MAMBA2_CONV_BWD", "two")
# 'scratch': L tiles per program (its scratch tile is reused, so it stays in L2) and its tile sizes
# (sm_90 build, bf16, width 4: 16 x 64 on 8 warps 205 registers, no spills; 32 x 64 on 4 warps spills)
SCRATCH_TILES_PER_PROGRAM = 16
SCRATCH_BLOCK_L = 16
SCRATCH_BLOCK_C = 64
SCRATCH_WARPS = 8


def parse_impl(spec):
    """(form, tile numbers) of a CONV_BWD_IMPL spec, or ValueError naming the rule."""
    name, *nums = str(spec).split(":")
    want = {"two": (0, 2), "scratch": (0, 3)}
    if name not in want or len(nums) not in want[name] or not all(n.isdigit() and int(n) > 0 for n in nums):
        raise ValueError(f"conv backward form {spec!r}: expected 'two', 'two:BLOCK_L:WARPS', 'scratch' or "
                         "'scratch:BLOCK_L:BLOCK_C:WARPS' (powers of two), e.g. MAMBA2_CONV_BWD=two:64:8")
    return name, tuple(int(n) for n in nums)

@triton.jit
def _causal_conv1d_bwd_dpre_kernel(
    x, weight, bias, dout, dpre, dw_part, db_part,
    L, C, N_LBLOCKS,
    stride_xb, stride_xl,
    stride_ob, stride_ol,
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

    b_do = tl.load(dout + i_b * stride_ob + o_l.to(tl.int64)[:, None] * stride_ol + o_c[None, :],
                   mask=m_lc, other=0.0).to(tl.float32)
    if SILU:
        b_sig = tl.sigmoid(b_pre)
        b_dp = b_do * b_sig * (1.0 + b_pre * (1.0 - b_sig))
    else:
        b_dp = b_do
    b_dp = tl.where(m_lc, b_dp, 0.0)
    tl.store(dpre + (i_b * L + o_l.to(tl.int64)[:, None]) * C + o_c[None, :], b_dp, mask=m_lc)

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


@triton.jit
def _causal_conv1d_bwd_dx_kernel(
    dpre, weight, dx,
    L, C,
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
                       mask=m_t[:, None] & m_c[None, :], other=0.0)
        b_w = tl.load(weight + o_c * WIDTH + k, mask=m_c, other=0.0).to(tl.float32)
        b_acc += b_dp * b_w[None, :]
    tl.store(dx + (i_b * L + o_l.to(tl.int64)[:, None]) * C + o_c[None, :],
             b_acc.to(dx.dtype.element_ty), mask=m_l[:, None] & m_c[None, :])


@triton.jit
def _causal_conv1d_bwd_scratch_kernel(
    x, weight, bias, dout, dx, dw_part, db_part, scratch,
    L, C, N_LSPLIT, TILES, N_ITER,
    stride_xb, stride_xl,
    stride_ob, stride_ol,
    WIDTH: tl.constexpr,
    BLOCK_W: tl.constexpr,
    BLOCK_H: tl.constexpr,
    HAS_BIAS: tl.constexpr,
    SILU: tl.constexpr,
    BLOCK_L: tl.constexpr,
    BLOCK_C: tl.constexpr,
):
    """Grid (N_LSPLIT, C blocks, batch): TILES consecutive L tiles each."""
    i_s = tl.program_id(0)
    i_c = tl.program_id(1)
    i_b = tl.program_id(2).to(tl.int64)
    o_c = i_c * BLOCK_C + tl.arange(0, BLOCK_C)
    o_w = tl.arange(0, BLOCK_W)
    o_r = tl.arange(0, BLOCK_L)
    o_h = tl.arange(0, BLOCK_H)
    m_c = o_c < C
    m_w = o_w < WIDTH
    p_x = x + i_b * stride_xb
    p_do = dout + i_b * stride_ob
    # w3[c, k] = w[c, k]; its mirror w[c, W-1-j] for dx's shift j
    m_cw = m_c[:, None] & m_w[None, :]
    b_w3 = tl.load(weight + o_c[:, None] * WIDTH + o_w[None, :], mask=m_cw, other=0.0).to(tl.float32)
    b_wr3 = tl.load(weight + o_c[:, None] * WIDTH + (WIDTH - 1 - o_w[None, :]), mask=m_cw, other=0.0).to(tl.float32)
    if HAS_BIAS:
        b_bias = tl.load(bias + o_c, mask=m_c, other=0.0).to(tl.float32)
    i_prog = (i_b * N_LSPLIT + i_s) * tl.num_programs(1) + i_c
    p_scr = scratch + i_prog * (BLOCK_L + BLOCK_H) * BLOCK_C
    o_scr = o_r[:, None] * BLOCK_C + tl.arange(0, BLOCK_C)[None, :]
    o_scr_h = (BLOCK_L + o_h[:, None]) * BLOCK_C + tl.arange(0, BLOCK_C)[None, :]
    # dx's shifted reads: scratch row l + j, tap j
    o_scr3 = (o_r[:, None, None] + o_w[None, None, :]) * BLOCK_C + tl.arange(0, BLOCK_C)[None, :, None]
    b_dw = tl.zeros((BLOCK_L, BLOCK_C, BLOCK_W), dtype=tl.float32)
    b_db = tl.zeros((BLOCK_L, BLOCK_C), dtype=tl.float32)
    for i_t in range(0, N_ITER):  # N_ITER = TILES (host.loop_count: a range bound)
        l0 = (i_s * TILES + i_t) * BLOCK_L
        if l0 < L:
            # the tile's rows: x at the W taps (row t - (W-1-k), tap k), pre, dpre
            o_l = l0 + o_r
            # int32 offsets from the tile's row (64-bit only in the base): fewer registers
            p_xt = p_x + l0.to(tl.int64) * stride_xl
            p_dot = p_do + l0.to(tl.int64) * stride_ol
            o_r3 = o_r[:, None, None] - (WIDTH - 1 - o_w[None, None, :])
            m_3 = (o_r3 + l0 >= 0) & (o_r3 + l0 < L) & m_c[None, :, None] & m_w[None, None, :]
            b_x3 = tl.load(p_xt + o_r3 * stride_xl + o_c[None, :, None], mask=m_3, other=0.0).to(tl.float32)
            b_pre = tl.sum(b_x3 * b_w3[None, :, :], axis=2)
            if HAS_BIAS:
                b_pre += b_bias[None, :]
            m_lc = (o_l < L)[:, None] & m_c[None, :]
            b_do = tl.load(p_dot + o_r[:, None] * stride_ol + o_c[None, :], mask=m_lc, other=0.0).to(tl.float32)
            if SILU:
                b_sig = tl.sigmoid(b_pre)
                b_dp = b_do * b_sig * (1.0 + b_pre * (1.0 - b_sig))
            else:
                b_dp = b_do
            b_dp = tl.where(m_lc, b_dp, 0.0)
            b_dw += b_dp[:, :, None] * b_x3
            b_db += b_dp
            # the W-1 rows after the tile (its dx rows read them); rows past L are 0
            o_lh = l0 + BLOCK_L + o_h
            o_rh3 = BLOCK_L + o_h[:, None, None] - (WIDTH - 1 - o_w[None, None, :])
            m_h3 = (o_rh3 + l0 < L) & m_c[None, :, None] & m_w[None, None, :] & (o_h < WIDTH - 1)[:, None, None]
            b_xh3 = tl.load(p_xt + o_rh3 * stride_xl + o_c[None, :, None], mask=m_h3, other=0.0).to(tl.float32)
            b_preh = tl.sum(b_xh3 * b_w3[None, :, :], axis=2)
            if HAS_BIAS:
                b_preh += b_bias[None, :]
            m_hc = ((o_lh < L) & (o_h < WIDTH - 1))[:, None] & m_c[None, :]
            b_doh = tl.load(p_dot + (BLOCK_L + o_h)[:, None] * stride_ol + o_c[None, :], mask=m_hc,
                            other=0.0).to(tl.float32)
            if SILU:
                b_sigh = tl.sigmoid(b_preh)
                b_dph = b_doh * b_sigh * (1.0 + b_preh * (1.0 - b_sigh))
            else:
                b_dph = b_doh
            b_dph = tl.where(m_hc, b_dph, 0.0)
            tl.debug_barrier()  # the previous tile's shifted reads are done
            tl.store(p_scr + o_scr, b_dp)
            tl.store(p_scr + o_scr_h, b_dph)
            tl.debug_barrier()  # this tile's dpre is visible to the whole program
            # dx[s] = sum_j w[W-1-j] dpre[s + j]
            m_s3 = m_w[None, None, :] & (o_r[:, None, None] >= 0)
            b_s3 = tl.load(p_scr + o_scr3, mask=m_s3, other=0.0)
            b_dx = tl.sum(b_s3 * b_wr3[None, :, :], axis=2)
            tl.store(dx + (i_b * L + l0.to(tl.int64)) * C + o_r[:, None] * C + o_c[None, :],
                     b_dx.to(dx.dtype.element_ty), mask=m_lc)
    i_part = i_b * N_LSPLIT + i_s
    tl.store(dw_part + (i_part * C + o_c[:, None]) * WIDTH + o_w[None, :], tl.sum(b_dw, axis=0), mask=m_cw)
    if HAS_BIAS:
        tl.store(db_part + i_part * C + o_c, tl.sum(b_db, axis=0), mask=m_c)


_ACTIVATIONS = {"silu": True, "swish": True, "identity": False, None: False}


def causal_conv1d_bwd(dout, x, weight, bias=None, activation="silu", *, block_l=None, block_c=None, num_warps=None,
                      impl=None):
    """Gradients of causal_conv1d.

    dout, x: [B, L, C] (last dim contiguous, other strides arbitrary),
    weight: [C, W], bias: [C] | None.
    Returns (dx [B, L, C] in x.dtype, dweight [C, W] fp32, dbias [C] fp32 | None).
    """
    Bsz, L, C = x.shape
    width = weight.shape[1]
    if x.stride(-1) != 1:
        x = x.contiguous()
    if dout.stride(-1) != 1:
        dout = dout.contiguous()
    weight = weight.contiguous()
    bias = bias.contiguous() if bias is not None else None
    form, nums = parse_impl(impl or CONV_BWD_IMPL)
    if form == "scratch":
        return _conv_bwd_scratch(dout, x, weight, bias, activation, *nums)
    if nums:
        block_l, num_warps = block_l or nums[0], num_warps or nums[1]
    # the W taps of x stay live for the dweight sums: half the forward's tile keeps them in registers
    block_l = block_l or max(16, LAUNCH.conv.block_l // 2)
    block_c = block_c or min(LAUNCH.conv.block_c, triton.next_power_of_2(C))
    n_lb = triton.cdiv(L, block_l)
    grid = (n_lb, triton.cdiv(C, block_c), Bsz)
    dev = x.device

    dpre = torch.empty((Bsz, L, C), device=dev, dtype=torch.float32)
    dw_part = torch.empty((Bsz * n_lb, C, width), device=dev, dtype=torch.float32)
    db_part = torch.empty((Bsz * n_lb, C), device=dev, dtype=torch.float32) if bias is not None else None
    _causal_conv1d_bwd_dpre_kernel[grid](
        x, weight, bias if bias is not None else weight, dout, dpre, dw_part,
        db_part if db_part is not None else dw_part,
        L, C, n_lb,
        x.stride(0), x.stride(1),
        dout.stride(0), dout.stride(1),
        WIDTH=width,
        BLOCK_W=triton.next_power_of_2(width),
        HAS_BIAS=bias is not None,
        SILU=_ACTIVATIONS[activation],
        BLOCK_L=block_l,
        BLOCK_C=block_c,
        num_warps=num_warps or LAUNCH.conv.num_warps,
    )
    dx = torch.empty((Bsz, L, C), device=dev, dtype=x.dtype)
    _causal_conv1d_bwd_dx_kernel[grid](
        dpre, weight, dx, L, C,
        WIDTH=width, BLOCK_L=block_l, BLOCK_C=block_c,
        num_warps=num_warps or LAUNCH.conv.num_warps,
    )
    dweight = dw_part.sum(0)
    dbias = db_part.sum(0) if db_part is not None else None
    return dx, dweight, dbias


def _conv_bwd_scratch(dout, x, weight, bias, activation, block_l=None, block_c=None, warps=None):
    """The 'scratch' form (module docstring); inputs already last-dim contiguous."""
    Bsz, L, C = x.shape
    width = weight.shape[1]
    block_l = block_l or SCRATCH_BLOCK_L
    block_c = min(block_c or SCRATCH_BLOCK_C, max(16, 1 << (C - 1).bit_length()))
    block_h = max(1, 1 << (width - 2).bit_length()) if width > 1 else 1
    n_lt = -(-L // block_l)
    tiles = min(SCRATCH_TILES_PER_PROGRAM, n_lt)
    n_ls = -(-n_lt // tiles)
    n_cb = -(-C // block_c)
    dev = x.device
    dx = torch.empty((Bsz, L, C), device=dev, dtype=x.dtype)
    dw_part = torch.empty((Bsz * n_ls, C, width), device=dev, dtype=torch.float32)
    db_part = torch.empty((Bsz * n_ls, C), device=dev, dtype=torch.float32) if bias is not None else None
    scratch = torch.empty((Bsz * n_ls * n_cb, block_l + block_h, block_c), device=dev, dtype=torch.float32)
    _causal_conv1d_bwd_scratch_kernel[(n_ls, n_cb, Bsz)](
        x, weight, bias if bias is not None else weight, dout, dx, dw_part,
        db_part if db_part is not None else dw_part, scratch,
        L, C, n_ls, tiles, loop_count(tiles),
        x.stride(0), x.stride(1), dout.stride(0), dout.stride(1),
        WIDTH=width, BLOCK_W=max(2, 1 << (width - 1).bit_length()), BLOCK_H=block_h,
        HAS_BIAS=bias is not None, SILU=_ACTIVATIONS[activation],
        BLOCK_L=block_l, BLOCK_C=block_c, num_warps=warps or SCRATCH_WARPS,
    )
    dweight = dw_part.sum(0)
    dbias = db_part.sum(0) if db_part is not None else None
    return dx, dweight, dbias
