# generated from examples/mamba2-layer-dssm.ts by @mamba2/codegen 0.1.0 -- do not edit
# ir-hash: 6b506ed2d21581e9224bb0cf9eb0bc4a8c5edcd8d3b57ffda137018a416ffd5d
# copied from packages/kernels/python/mamba2_kernels/kernels/ssd_bwd_v6.py
"""Backward v6 of the SSD scan: states every K positions, 64-row blocks inside
(NOTES.md "Backward v6"). For finite inputs without state resets, no z, scan
orders 0..3 (seq_idx in order 0 only); everything else, and any call whose
inputs turn out not to be finite, runs v4 (ssd_bwd.py), which is exact for them.
Another scan order (cross scans over an image, cross_scan.py) changes only
addresses: every row of x, dout, B, C, dt, dx, dB, dC, ddt is read or written
through ssd_common.row_offsets / token_index as v4 does; cumsums, states, W
and the scratch stay in scan order; ORDER 0 compiles to the code it had.

Math per (batch b, head h, chunk c of K positions), decays in exp2 of the
chunk's cumsum cs (dt * A * log2 e, from the chunk start), S_in / dS_out the
state entering the chunk and the gradient of the one leaving it:
  M[i, j]  = (C_i . B_j) exp2(cs_i - cs_j) dt_j          (j <= i)
  dM[i, j] = dy_i . x_j
  dx_j = sum_i M[i, j] dy_i + dt_j exp2(cs_last - cs_j) dS_out B_j + D dy_j
  W[i, j] = sum over the group's heads of dM[i, j] exp2(cs_i - cs_j) dt_j
  dC_i = sum_j W[i, j] B_j + sum_h exp2(cs_i) dy_i S_in
  dB_j = sum_i W[i, j] C_i + sum_h dt_j exp2(cs_last - cs_j) x_j dS_out
  d cs_t: rows minus columns of G = dM * M, exp2(cs_i) dy_i . (C_i S_in),
          - dw_j w_state_j (dw_j = x_j . dS_out B_j), and at the chunk's end
          sum_j dw_j w_state_j + exp2(cs_last) <dS_out, S_in>;
  d (dt_k A) = the suffix sum of d cs over the chunk (over k's sequence with
  seq_idx: every pair and state term is masked to one sequence as v4's); ddt_k = its column sum
  of dM C.B E, dw_k exp2(cs_last - cs_k) and A times it; dA = sum dt * it.
Launches: the dt pre-kernel (chunk K), the forward and reverse walks (v4's, in
32-long tiles, storing one state per chunk and flagging non-finite loads),
then `pair` (per chunk, block pair i >= j and group: C B^T, W and the row /
column sums of G over the group's heads), `dx` (per chunk, block, head),
`dbc` (per chunk, block, group: dB or dC) and `dt` (per chunk and head: the
suffix sums, ddt through bias / softplus / clamp, dA). No atomics: partial
sums go to buffers that the next launch reduces in a fixed order, so two
runs give bit-identical gradients.
"""
from __future__ import annotations

import math

import torch
import triton
import triton.language as tl

from .fastlaunch import fast_launch
from .host import INTERPRETED as _INTERPRETED, cdiv, dot_dtype as _dot_dtype, next_pow2
from .host import check_scan_order, last_dim_contiguous as _last_dim_contiguous, limit_pair
from .host import loop_count as _loop_count
from .dt import _ssd_dt_cumsum_kernel
from .ssd_common import row_offsets, segment_cumsum
from . import ssd_bwd as _v4
from .ssd_bwd_common import _dt_chunk, _ssd_bwd_walk_kernel
from .ssd_bwd import _pick_nsplit

# States every V6_CHUNK positions, V6_BLOCK rows per block (V6_CHUNK // V6_BLOCK blocks a chunk).
# Defaults from the H200 runs of 2026-12-01f (NOTES.md "Backward v6 ... measured": call20, chunk 128
# and 256 within 1-7%, the pair kernel faster on 4 warps than on 8 by 17% at (4, 4096, 80)).
V6_CHUNK = 128
V6_BLOCK = 64
V6_SUB = 64  # the walks' tile: 64 measured 3-12% faster backward than 32 at three shapes (call22), 128 slower
V6_WARPS = 4
V6_PAIR_WARPS = 4  # 255 registers at 4 warps, 149 at 8 (bwd_regs.py v6), yet 4 warps measured faster
# Shorter sequences run v4 (host-bound there: v6's extra launches and its one sync cost more)
V6_MIN_LEN = 512
V6_STAGES = 2
# seq_idx in v6: checked on the CPU (test_bwd_ssd.py) and on the H200 (bwd_bench's check, calls 22 and 23
# of 2026-12-02: bf16 rel err <= 8e-3 against float64 with three sequences in a row); False sends seq_idx
# calls to v4
V6_SEQ_IDX = True
# Pair-kernel programs wanted before a group's heads are split (each split adds a W partial). 0: never
# split: without the split the backward measured faster at (4, 4096, 80) and (8, 2048, 64) (call21:
# fwd+bwd 2.37 vs 2.47, 2.17 vs 2.22 ms) and 57 MiB lighter (the W partials)
V6_MIN_PAIR_PROGRAMS = 0
# False (tests, bwd_bench's check): a call v6 cannot compute raises instead of running v4
V6_FALLBACK = True


@fast_launch
@triton.jit
def _v6_pair_kernel(
    x, B, C, dout, dtp, csp, seg, cb, w, g_row, g_col, g_ddt,
    L, H, P, N, G, HEADS_PER_GROUP, HPG_LOOP, LP, NCC, NSPLIT,
    stride_xb, stride_xl, stride_xh,
    stride_Bb, stride_Bl, stride_Bg,
    stride_Cb, stride_Cl, stride_Cg,
    stride_ob, stride_ol, stride_oh,
    NB: tl.constexpr, BQ: tl.constexpr, BLOCK_P: tl.constexpr, BLOCK_N: tl.constexpr,
    DOT_DTYPE: tl.constexpr, DOT_PRECISION: tl.constexpr, HAS_SEQ_IDX: tl.constexpr = False,
    ORDER: tl.constexpr = 0, HI=1, WI=1,
):
    """Grid (NB * NB, NCC, b * G * NSPLIT); programs with jb > ib return;
    split s of a group takes HPG_LOOP = HEADS_PER_GROUP / NSPLIT of its heads.
    Stores cb[(b g), c, ib, jb] = C_i B_j^T ([BQ, BQ], the input dtype;
    split 0), w[s, (b g), c, ib, jb] = the split's part of W (fp32), and per
    head the row sums of G (g_row), its column sums (g_col) and the column
    sums of dM C.B E (g_ddt), each [b h, c, ib, jb, BQ]. ORDER, HI, WI:
    the scan order (ssd_common.token_index): rows of x, B, C, dout are read
    through row_offsets (ORDER 0: o_q); the rest is in scan order."""
    i_ij = tl.program_id(0)
    i_bl = i_ij // NB
    j_bl = i_ij % NB
    if j_bl > i_bl:
        return
    i_c = tl.program_id(1)
    i_r = tl.program_id(2)
    i_s = i_r % NSPLIT
    i_bg = i_r // NSPLIT
    i_b = i_bg // G
    i_g = i_bg % G
    i_b64 = i_b.to(tl.int64)
    ti0 = i_c.to(tl.int64) * (NB * BQ) + i_bl * BQ
    tj0 = i_c.to(tl.int64) * (NB * BQ) + j_bl * BQ
    o_q = tl.arange(0, BQ)
    o_p = tl.arange(0, BLOCK_P)
    o_n = tl.arange(0, BLOCK_N)
    m_i = (ti0 + o_q) < L
    m_j = (tj0 + o_q) < L
    m_n = o_n < N
    m_p = o_p < P
    o_wi = row_offsets(o_q, ti0, HI, WI, ORDER)  # rows in memory (ORDER 0: o_q)
    o_wj = row_offsets(o_q, tj0, HI, WI, ORDER)
    b_C = tl.load(C + i_b64 * stride_Cb + i_g * stride_Cg + (ti0 + o_wi)[:, None] * stride_Cl + o_n[None, :],
                  mask=m_i[:, None] & m_n[None, :], other=0.0)
    b_B = tl.load(B + i_b64 * stride_Bb + i_g * stride_Bg + (tj0 + o_wj)[:, None] * stride_Bl + o_n[None, :],
                  mask=m_j[:, None] & m_n[None, :], other=0.0)
    b_CB = tl.dot(b_C.to(DOT_DTYPE), tl.trans(b_B.to(DOT_DTYPE)), input_precision=DOT_PRECISION)
    o_blk = ((i_bg.to(tl.int64) * NCC + i_c) * NB + i_bl) * NB + j_bl
    o_qq = o_q[:, None] * BQ + o_q[None, :]
    tl.store(cb + o_blk * BQ * BQ + o_qq, b_CB.to(cb.dtype.element_ty), mask=(o_qq >= 0) & (i_s == 0))
    m_ij = (i_bl > j_bl) | (o_q[:, None] >= o_q[None, :])
    if HAS_SEQ_IDX:  # seg: the chunk's segment counter of each position ([b, LP])
        m_ij = m_ij & (tl.load(seg + i_b64 * LP + ti0 + o_q)[:, None] == tl.load(seg + i_b64 * LP + tj0 + o_q)[None, :])
    b_W = tl.zeros([BQ, BQ], dtype=tl.float32)
    for i_hh in range(0, HPG_LOOP):
        i_h = i_g * HEADS_PER_GROUP + i_s * (HEADS_PER_GROUP // NSPLIT) + i_hh
        i_bh64 = i_b64 * H + i_h
        b_dy = tl.load(dout + i_b64 * stride_ob + i_h * stride_oh + (ti0 + o_wi)[:, None] * stride_ol + o_p[None, :],
                       mask=m_i[:, None] & m_p[None, :], other=0.0)
        b_x = tl.load(x + i_b64 * stride_xb + i_h * stride_xh + (tj0 + o_wj)[:, None] * stride_xl + o_p[None, :],
                      mask=m_j[:, None] & m_p[None, :], other=0.0)
        b_cs_i = tl.load(csp + i_bh64 * LP + ti0 + o_q)
        b_cs_j = tl.load(csp + i_bh64 * LP + tj0 + o_q)
        b_dt_j = tl.load(dtp + i_bh64 * LP + tj0 + o_q)
        b_dM = tl.dot(b_dy.to(DOT_DTYPE), tl.trans(b_x.to(DOT_DTYPE)), input_precision=DOT_PRECISION)
        b_E = tl.exp2(tl.where(m_ij, b_cs_i[:, None] - b_cs_j[None, :], -float("inf")))
        b_dME = b_dM * b_E
        b_W += b_dME * b_dt_j[None, :]
        b_Q1 = b_dME * b_CB
        b_G = b_Q1 * b_dt_j[None, :]
        o_part = ((i_bh64 * NCC + i_c) * NB + i_bl) * NB + j_bl
        tl.store(g_row + o_part * BQ + o_q, tl.sum(b_G, axis=1))
        tl.store(g_col + o_part * BQ + o_q, tl.sum(b_G, axis=0))
        tl.store(g_ddt + o_part * BQ + o_q, tl.sum(b_Q1, axis=0))
    tl.store(w + (i_s * tl.num_programs(2) // NSPLIT * NCC * NB * NB + o_blk) * BQ * BQ + o_qq, b_W)


@triton.jit
def _dx_step(b_acc, cb, csp, p_o, i_bg64, i_bh64, i_c, i_bl, j_bl, c0, o_q, o_p, m_p, o_qq, b_cs_j, b_dt_j,
             L, LP, NCC, stride_ol, NB: tl.constexpr, BQ: tl.constexpr, ELT: tl.constexpr,
             DOT_DTYPE: tl.constexpr, DOT_PRECISION: tl.constexpr, p_seg, b_seg_j, HAS_SEQ_IDX: tl.constexpr,
             HI, WI, ORDER: tl.constexpr):
    """dx_j += M[i, j]^T dy_i for one i-block."""
    ti0 = c0 + i_bl * BQ
    m_i = (ti0 + o_q) < L
    o_wi = row_offsets(o_q, ti0, HI, WI, ORDER)
    o_blk = ((i_bg64 * NCC + i_c) * NB + i_bl) * NB + j_bl
    b_CB = tl.load(cb + o_blk * BQ * BQ + o_qq).to(tl.float32)
    b_cs_i = tl.load(csp + i_bh64 * LP + ti0 + o_q)
    b_dy = tl.load(p_o + (ti0 + o_wi)[:, None] * stride_ol + o_p[None, :], mask=m_i[:, None] & m_p[None, :],
                   other=0.0)
    m_ij = (i_bl > j_bl) | (o_q[:, None] >= o_q[None, :])
    if HAS_SEQ_IDX:
        m_ij = m_ij & (tl.load(p_seg + ti0 + o_q)[:, None] == b_seg_j[None, :])
    b_M = b_CB * tl.exp2(tl.where(m_ij, b_cs_i[:, None] - b_cs_j[None, :], -float("inf"))) * b_dt_j[None, :]
    return b_acc + tl.dot(tl.trans(b_M.to(ELT).to(DOT_DTYPE)), b_dy.to(DOT_DTYPE), input_precision=DOT_PRECISION)


@fast_launch
@triton.jit
def _v6_dx_kernel(
    x, B, C, D, dout, dtp, csp, seg, states, dstates, cb,
    dx, s_dcs, s_ddt, s_last, dD_part,
    L, H, P, N, G, HEADS_PER_GROUP, HPG_LOOP, LP, NCC,
    stride_xb, stride_xl, stride_xh,
    stride_Bb, stride_Bl, stride_Bg,
    stride_Cb, stride_Cl, stride_Cg,
    stride_ob, stride_ol, stride_oh,
    NB: tl.constexpr, BQ: tl.constexpr, BLOCK_P: tl.constexpr, BLOCK_N: tl.constexpr,
    DOT_DTYPE: tl.constexpr, DOT_PRECISION: tl.constexpr,
    HAS_D: tl.constexpr, D_PER_CHANNEL: tl.constexpr, INTERP: tl.constexpr = False,
    HAS_SEQ_IDX: tl.constexpr = False, ORDER: tl.constexpr = 0, HI=1, WI=1,
):
    """Grid (NB, NCC, b * H): dx of block jb of chunk c for head h, and the
    state terms of d cs (s_dcs), of ddt (s_ddt) per position, and of the
    chunk's last d cs (s_last[b h, c, jb]: sum dw w_state, plus at jb 0
    exp2(cs_last) <dS_out, S_in>); dD partials [b, c * NB + jb, h, P].
    ORDER: rows of x, B, C, dout and dx through row_offsets."""
    j_bl = tl.program_id(0)
    i_c = tl.program_id(1)
    i_bh = tl.program_id(2)
    i_b = i_bh // H
    i_h = i_bh % H
    i_g = i_h // HEADS_PER_GROUP
    i_b64 = i_b.to(tl.int64)
    i_bh64 = i_bh.to(tl.int64)
    i_bg64 = i_b64 * G + i_g
    ELT = x.dtype.element_ty
    c0 = i_c.to(tl.int64) * (NB * BQ)
    tj0 = c0 + j_bl * BQ
    o_q = tl.arange(0, BQ)
    o_p = tl.arange(0, BLOCK_P)
    o_n = tl.arange(0, BLOCK_N)
    m_j = (tj0 + o_q) < L
    m_n = o_n < N
    m_p = o_p < P
    m_jp = m_j[:, None] & m_p[None, :]
    m_pn = m_p[:, None] & m_n[None, :]
    o_wj = row_offsets(o_q, tj0, HI, WI, ORDER)  # rows in memory (ORDER 0: o_q)
    p_x = x + i_b64 * stride_xb + i_h * stride_xh
    p_o = dout + i_b64 * stride_ob + i_h * stride_oh
    b_cs_j = tl.load(csp + i_bh64 * LP + tj0 + o_q)
    b_dt_j = tl.load(dtp + i_bh64 * LP + tj0 + o_q)
    b_cs_last = tl.load(csp + i_bh64 * LP + c0 + (NB * BQ - 1))
    o_qq = o_q[:, None] * BQ + o_q[None, :]
    p_seg = seg + i_b64 * LP
    b_seg_j = 0
    b_seg_last = 0
    if HAS_SEQ_IDX:
        b_seg_j = tl.load(p_seg + tj0 + o_q)
        b_seg_last = tl.load(p_seg + c0 + (NB * BQ - 1))
    b_acc = tl.zeros([BQ, BLOCK_P], dtype=tl.float32)
    if INTERP:  # a runtime range start fails under the interpreter
        for i_bl in range(0, NB):
            if i_bl >= j_bl:
                b_acc = _dx_step(b_acc, cb, csp, p_o, i_bg64, i_bh64, i_c, i_bl, j_bl, c0, o_q, o_p, m_p, o_qq,
                                 b_cs_j, b_dt_j, L, LP, NCC, stride_ol, NB, BQ, ELT, DOT_DTYPE, DOT_PRECISION,
                                 p_seg, b_seg_j, HAS_SEQ_IDX, HI, WI, ORDER)
    else:
        for i_bl in range(j_bl, NB):
            b_acc = _dx_step(b_acc, cb, csp, p_o, i_bg64, i_bh64, i_c, i_bl, j_bl, c0, o_q, o_p, m_p, o_qq,
                             b_cs_j, b_dt_j, L, LP, NCC, stride_ol, NB, BQ, ELT, DOT_DTYPE, DOT_PRECISION,
                             p_seg, b_seg_j, HAS_SEQ_IDX, HI, WI, ORDER)
    b_x = tl.load(p_x + (tj0 + o_wj)[:, None] * stride_xl + o_p[None, :], mask=m_jp, other=0.0)
    b_dy = tl.load(p_o + (tj0 + o_wj)[:, None] * stride_ol + o_p[None, :], mask=m_jp, other=0.0)
    b_B = tl.load(B + i_b64 * stride_Bb + i_g * stride_Bg + (tj0 + o_wj)[:, None] * stride_Bl + o_n[None, :],
                  mask=m_j[:, None] & m_n[None, :], other=0.0)
    b_C = tl.load(C + i_b64 * stride_Cb + i_g * stride_Cg + (tj0 + o_wj)[:, None] * stride_Cl + o_n[None, :],
                  mask=m_j[:, None] & m_n[None, :], other=0.0)
    o_state = (i_bh64 * NCC + i_c) * P * N + o_p[:, None] * N + o_n[None, :]
    b_S = tl.load(states + o_state, mask=m_pn, other=0.0)
    b_dS = tl.load(dstates + o_state, mask=m_pn, other=0.0)
    b_U = tl.dot(b_B.to(DOT_DTYPE), tl.trans(b_dS.to(DOT_DTYPE)), input_precision=DOT_PRECISION)  # (dS B_j)[p]
    b_e_state = tl.exp2(b_cs_last - b_cs_j)
    b_w_out = tl.exp2(b_cs_j)
    if HAS_SEQ_IDX:  # the state leaving the chunk holds its last sequence; the one entering reaches the first
        b_e_state = tl.where(b_seg_j == b_seg_last, b_e_state, 0.0)
        b_w_out = tl.where(b_seg_j == 0, b_w_out, 0.0)
    b_w_state = b_dt_j * b_e_state
    b_xf = b_x.to(tl.float32)
    b_dyf = b_dy.to(tl.float32)
    b_dx = b_acc + b_U * b_w_state[:, None]
    if HAS_D:
        if D_PER_CHANNEL:
            b_D = tl.load(D + i_h * P + o_p, mask=m_p, other=0.0).to(tl.float32)[None, :]
        else:
            b_D = tl.load(D + i_h).to(tl.float32)
        b_dx += b_dyf * b_D
        tl.store(dD_part + ((i_b64 * NCC + i_c) * NB + j_bl) * H * P + i_h * P + o_p, tl.sum(b_dyf * b_xf, axis=0),
                 mask=m_p)
    tl.store(dx + ((i_b64 * L + tj0) * H + i_h) * P + o_wj[:, None] * (H * P) + o_p[None, :],
             b_dx.to(dx.dtype.element_ty), mask=m_jp)
    b_dw = tl.sum(b_xf * b_U, axis=1)
    b_yoff = tl.dot(b_C.to(DOT_DTYPE), tl.trans(b_S.to(DOT_DTYPE)), input_precision=DOT_PRECISION)  # C_j . S_in
    b_dyoff = tl.sum(b_dyf * b_yoff, axis=1)
    tl.store(s_dcs + i_bh64 * LP + tj0 + o_q, b_w_out * b_dyoff - b_dw * b_w_state)
    tl.store(s_ddt + i_bh64 * LP + tj0 + o_q, b_dw * b_e_state)
    b_last = tl.sum(b_dw * b_w_state, axis=0)
    if j_bl == 0:
        b_sdss = tl.sum(tl.sum(b_dS.to(tl.float32) * b_S.to(tl.float32), axis=1), axis=0)
        b_keep = tl.exp2(b_cs_last)
        if HAS_SEQ_IDX:
            b_keep = tl.where(b_seg_last == 0, b_keep, 0.0)
        b_last += b_keep * b_sdss
    tl.store(s_last + (i_bh64 * NCC + i_c) * NB + j_bl, b_last)


@triton.jit
def _w_step(b_acc, w, R, i_b64, i_g, i_bg, i_c, i_bl, j_bl, c0, o_q, o_n, m_n, o_qq, L, NCC, BG, NSPLIT_LOOP,
            stride_Rb, stride_Rl, stride_Rg, TRANS: tl.constexpr, NB: tl.constexpr, BQ: tl.constexpr,
            ELT: tl.constexpr, DOT_DTYPE: tl.constexpr, DOT_PRECISION: tl.constexpr, HI, WI, ORDER: tl.constexpr):
    """acc += W[i, j]^T C_i (TRANS: R = C, rows of block i) or W[i, j] B_j
    (R = B, rows of block j); W summed over the pair kernel's splits."""
    o_blk = ((i_bg.to(tl.int64) * NCC + i_c) * NB + i_bl) * NB + j_bl
    b_W = tl.zeros([BQ, BQ], dtype=tl.float32)
    for i_s in range(0, NSPLIT_LOOP):
        b_W += tl.load(w + (i_s * BG * NCC * NB * NB + o_blk) * BQ * BQ + o_qq)
    if TRANS:
        t0 = c0 + i_bl * BQ
    else:
        t0 = c0 + j_bl * BQ
    m_r = (t0 + o_q) < L
    o_w = row_offsets(o_q, t0, HI, WI, ORDER)  # rows in memory (ORDER 0: o_q)
    b_R = tl.load(R + i_b64 * stride_Rb + i_g * stride_Rg + (t0 + o_w)[:, None] * stride_Rl + o_n[None, :],
                  mask=m_r[:, None] & m_n[None, :], other=0.0)
    b_Wd = b_W.to(ELT).to(DOT_DTYPE)
    if TRANS:
        b_Wd = tl.trans(b_Wd)
    return b_acc + tl.dot(b_Wd, b_R.to(DOT_DTYPE), input_precision=DOT_PRECISION)


@fast_launch
@triton.jit
def _v6_dbc_kernel(
    x, B, C, dout, dtp, csp, seg, states, dstates, w, dB, dC,
    L, H, P, N, G, HEADS_PER_GROUP, HPG_LOOP, LP, NCC, NSPLIT, NSPLIT_LOOP,
    stride_xb, stride_xl, stride_xh,
    stride_Bb, stride_Bl, stride_Bg,
    stride_Cb, stride_Cl, stride_Cg,
    stride_ob, stride_ol, stride_oh,
    NB: tl.constexpr, BQ: tl.constexpr, BLOCK_P: tl.constexpr, BLOCK_N: tl.constexpr,
    DOT_DTYPE: tl.constexpr, DOT_PRECISION: tl.constexpr, INTERP: tl.constexpr = False,
    HAS_SEQ_IDX: tl.constexpr = False, ORDER: tl.constexpr = 0, HI=1, WI=1,
):
    """Grid (2 * NB, NCC, b * G): program (2 k + which): which 0 = dB of block
    k (W^T C over i >= k, then the heads' x dS_out), 1 = dC of block k (W B
    over j <= k, then the heads' dy S_in). fp32 [b, l, G, N], complete.
    ORDER: rows of x, B, C, dout, dB and dC through row_offsets."""
    i_k = tl.program_id(0)
    k_bl = i_k // 2
    which = i_k % 2
    i_c = tl.program_id(1)
    i_bg = tl.program_id(2)
    i_b = i_bg // G
    i_g = i_bg % G
    i_b64 = i_b.to(tl.int64)
    ELT = x.dtype.element_ty
    c0 = i_c.to(tl.int64) * (NB * BQ)
    tk0 = c0 + k_bl * BQ
    o_q = tl.arange(0, BQ)
    o_p = tl.arange(0, BLOCK_P)
    o_n = tl.arange(0, BLOCK_N)
    m_k = (tk0 + o_q) < L
    m_n = o_n < N
    m_p = o_p < P
    m_kp = m_k[:, None] & m_p[None, :]
    m_pn = m_p[:, None] & m_n[None, :]
    o_wk = row_offsets(o_q, tk0, HI, WI, ORDER)  # rows in memory (ORDER 0: o_q)
    o_qq = o_q[:, None] * BQ + o_q[None, :]
    b_acc = tl.zeros([BQ, BLOCK_N], dtype=tl.float32)
    o_state = o_p[:, None] * N + o_n[None, :]
    BG = tl.num_programs(2)
    if HAS_SEQ_IDX:
        b_seg_k = tl.load(seg + i_b64 * LP + tk0 + o_q)
        b_seg_last = tl.load(seg + i_b64 * LP + c0 + (NB * BQ - 1))
    if which == 0:  # dB_j += W[i, j]^T C_i, i >= j
        if INTERP:
            for i_bl in range(0, NB):
                if i_bl >= k_bl:
                    b_acc = _w_step(b_acc, w, C, i_b64, i_g, i_bg, i_c, i_bl, k_bl, c0, o_q, o_n, m_n, o_qq, L, NCC,
                                    BG, NSPLIT_LOOP, stride_Cb, stride_Cl, stride_Cg, True, NB, BQ, ELT, DOT_DTYPE,
                                    DOT_PRECISION, HI, WI, ORDER)
        else:
            for i_bl in range(k_bl, NB):
                b_acc = _w_step(b_acc, w, C, i_b64, i_g, i_bg, i_c, i_bl, k_bl, c0, o_q, o_n, m_n, o_qq, L, NCC,
                                BG, NSPLIT_LOOP, stride_Cb, stride_Cl, stride_Cg, True, NB, BQ, ELT, DOT_DTYPE,
                                DOT_PRECISION, HI, WI, ORDER)
        for i_hh in range(0, HPG_LOOP):  # dB_j += sum_h w_state_j x_j dS_out
            i_h = i_g * HEADS_PER_GROUP + i_hh
            i_bh64 = i_b64 * H + i_h
            b_cs = tl.load(csp + i_bh64 * LP + tk0 + o_q)
            b_dt = tl.load(dtp + i_bh64 * LP + tk0 + o_q)
            b_cs_last = tl.load(csp + i_bh64 * LP + c0 + (NB * BQ - 1))
            b_x = tl.load(x + i_b64 * stride_xb + i_h * stride_xh + (tk0 + o_wk)[:, None] * stride_xl + o_p[None, :],
                          mask=m_kp, other=0.0).to(tl.float32)
            b_dS = tl.load(dstates + (i_bh64 * NCC + i_c) * P * N + o_state, mask=m_pn, other=0.0)
            b_ws = b_dt * tl.exp2(b_cs_last - b_cs)
            if HAS_SEQ_IDX:
                b_ws = tl.where(b_seg_k == b_seg_last, b_ws, 0.0)
            b_xw = (b_x * b_ws[:, None]).to(ELT).to(DOT_DTYPE)
            b_acc += tl.dot(b_xw, b_dS.to(DOT_DTYPE), input_precision=DOT_PRECISION)
        tl.store(dB + ((i_b64 * L + tk0) * G + i_g) * N + o_wk[:, None] * (G * N) + o_n[None, :], b_acc,
                 mask=m_k[:, None] & m_n[None, :])
    else:
        if INTERP:  # dC_i += W[i, j] B_j, j <= i
            for j_bl in range(0, NB):
                if j_bl <= k_bl:
                    b_acc = _w_step(b_acc, w, B, i_b64, i_g, i_bg, i_c, k_bl, j_bl, c0, o_q, o_n, m_n, o_qq, L, NCC,
                                    BG, NSPLIT_LOOP, stride_Bb, stride_Bl, stride_Bg, False, NB, BQ, ELT, DOT_DTYPE,
                                    DOT_PRECISION, HI, WI, ORDER)
        else:
            for j_bl in range(0, k_bl + 1):
                b_acc = _w_step(b_acc, w, B, i_b64, i_g, i_bg, i_c, k_bl, j_bl, c0, o_q, o_n, m_n, o_qq, L, NCC,
                                BG, NSPLIT_LOOP, stride_Bb, stride_Bl, stride_Bg, False, NB, BQ, ELT, DOT_DTYPE,
                                DOT_PRECISION, HI, WI, ORDER)
        for i_hh in range(0, HPG_LOOP):  # dC_i += sum_h exp2(cs_i) dy_i S_in
            i_h = i_g * HEADS_PER_GROUP + i_hh
            i_bh64 = i_b64 * H + i_h
            b_cs = tl.load(csp + i_bh64 * LP + tk0 + o_q)
            b_dy = tl.load(dout + i_b64 * stride_ob + i_h * stride_oh + (tk0 + o_wk)[:, None] * stride_ol
                           + o_p[None, :], mask=m_kp, other=0.0).to(tl.float32)
            b_S = tl.load(states + (i_bh64 * NCC + i_c) * P * N + o_state, mask=m_pn, other=0.0)
            b_wo = tl.exp2(b_cs)
            if HAS_SEQ_IDX:
                b_wo = tl.where(b_seg_k == 0, b_wo, 0.0)
            b_dyw = (b_dy * b_wo[:, None]).to(ELT).to(DOT_DTYPE)
            b_acc += tl.dot(b_dyw, b_S.to(DOT_DTYPE), input_precision=DOT_PRECISION)
        tl.store(dC + ((i_b64 * L + tk0) * G + i_g) * N + o_wk[:, None] * (G * N) + o_n[None, :], b_acc,
                 mask=m_k[:, None] & m_n[None, :])


@fast_launch
@triton.jit
def _v6_dt_kernel(
    dt, A, dt_bias, dtp, seg, g_row, g_col, g_ddt, s_dcs, s_ddt, s_last, ddt, dA_part,
    L, H, LP, NCC,
    stride_dtb, stride_dtl, stride_dth,
    dt_lo, dt_hi,
    NB: tl.constexpr, BQ: tl.constexpr, K: tl.constexpr,
    HAS_DT_BIAS: tl.constexpr, DT_SOFTPLUS: tl.constexpr, HAS_SEQ_IDX: tl.constexpr = False,
    ORDER: tl.constexpr = 0, HI=1, WI=1,
):
    """Grid (NCC, b * H): d cs over the chunk (pair sums + state terms + the
    last position's), its suffix sum rc, ddt = (column sums + state term + rc
    A) * d dt / d dt_raw, and dA_part[b h, c] = sum dt rc. ORDER: dt read
    and ddt written through row_offsets (the rest in scan order)."""
    i_c = tl.program_id(0)
    i_bh = tl.program_id(1)
    i_b = i_bh // H
    i_h = i_bh % H
    i_bh64 = i_bh.to(tl.int64)
    c0 = i_c.to(tl.int64) * K
    o_k = tl.arange(0, K)
    o_a = tl.arange(0, NB)
    o_q = tl.arange(0, BQ)
    # [NB (ib), NB (jb), BQ] partials of this (b h, c); only jb <= ib were written
    o_part = ((i_bh64 * NCC + i_c) * NB + o_a[:, None, None]) * NB + o_a[None, :, None]
    m_tri = (o_a[None, :, None] <= o_a[:, None, None]) & (o_q[None, None, :] >= 0)
    b_row = tl.load(g_row + o_part * BQ + o_q[None, None, :], mask=m_tri, other=0.0)
    b_col = tl.load(g_col + o_part * BQ + o_q[None, None, :], mask=m_tri, other=0.0)
    b_cd = tl.load(g_ddt + o_part * BQ + o_q[None, None, :], mask=m_tri, other=0.0)
    b_dcs = tl.reshape(tl.sum(b_row, axis=1), [K]) - tl.reshape(tl.sum(b_col, axis=0), [K])
    b_dcs += tl.load(s_dcs + i_bh64 * LP + c0 + o_k)
    b_last = tl.sum(tl.load(s_last + (i_bh64 * NCC + i_c) * NB + o_a), axis=0)
    b_dcs += tl.where(o_k == K - 1, b_last, 0.0)
    if HAS_SEQ_IDX:  # d (dt_k A) sums over the later positions of k's sequence in the chunk
        b_rc = segment_cumsum(b_dcs, tl.load(seg + i_b.to(tl.int64) * LP + c0 + o_k), True)
    else:
        b_rc = tl.cumsum(b_dcs, axis=0, reverse=True)
    b_A = tl.load(A + i_h).to(tl.float32)
    b_dt_bias = 0.0
    if HAS_DT_BIAS:
        b_dt_bias = tl.load(dt_bias + i_h).to(tl.float32)
    m_t = (c0 + o_k) < L
    o_wk = row_offsets(o_k, c0, HI, WI, ORDER)  # rows in memory (ORDER 0: o_k)
    b_dt, b_ddt_draw = _dt_chunk(dt + i_b.to(tl.int64) * stride_dtb + i_h * stride_dth + c0 * stride_dtl, o_wk,
                                     m_t, stride_dtl, b_dt_bias, dt_lo, dt_hi, HAS_DT_BIAS, DT_SOFTPLUS)
    b_ddt = tl.reshape(tl.sum(b_cd, axis=0), [K]) + tl.load(s_ddt + i_bh64 * LP + c0 + o_k) + b_rc * b_A
    b_ddt = tl.where(b_ddt_draw == 0.0, 0.0, b_ddt * b_ddt_draw)
    tl.store(ddt + (i_b.to(tl.int64) * L + c0 + o_wk) * H + i_h, b_ddt, mask=m_t)
    tl.store(dA_part + i_bh64 * NCC + i_c, tl.sum(b_dt * b_rc, axis=0))


def v6_supports(x, B, z, seq_idx, order, allow_seq_idx=False):
    """Whether v6 computes this call (else v4): scan order 0..3 (ssd_common.token_index), no z,
    headdim and d_state at most 128, seq_idx only with allow_seq_idx and only in order 0 (a scan
    over an image in another order has no packed sequences; v4 refuses that call)."""
    return (order in (0, 1, 2, 3) and z is None and x.shape[-1] <= 128 and B.shape[-1] <= 128
            and (seq_idx is None or (allow_seq_idx and order == 0)))


def _ssd_bwd_v6(
    dout, x, dt, A, B, C, D=None, z=None, dt_bias=None, initial_states=None, seq_idx=None,
    dt_softplus=False, dt_limit=(0.0, math.inf), dfinal_states=None,
    *, chunk=None, block=None, walk_tile=None, num_warps=None, num_stages=None, nsplit=None, order=0, height=1, width=1,
    fallback=None, allow_seq_idx=None, **v4_launch,
):
    """v6 where v6_supports() and the inputs are finite without state
    resets, else v4 (with v4_launch). The finite check is on device (the
    walks' flags, the cumsums), read once after the walks: one host sync.
    While a CUDA graph is being captured (no sync allowed) the call runs v4.
    fallback=False (tests; default V6_FALLBACK): raise instead of running v4."""
    fallback = V6_FALLBACK if fallback is None else fallback

    def v4():
        if not fallback:
            raise ValueError("backward v6 cannot compute this call (z, a scan order outside 0..3, seq_idx without "
                             "allow_seq_idx=True or with a scan order other than 0, headdim or "
                             "d_state > 128, or non-finite inputs / state resets); v4 does: impl='v4'")
        return _v4._ssd_bwd_v4(dout, x, dt, A, B, C, D=D, z=z, dt_bias=dt_bias, initial_states=initial_states,
                               seq_idx=seq_idx, dt_softplus=dt_softplus, dt_limit=dt_limit,
                               dfinal_states=dfinal_states, order=order, height=height, width=width, **v4_launch)
    allow_seq_idx = V6_SEQ_IDX if allow_seq_idx is None else allow_seq_idx
    if not v6_supports(x, B, z, seq_idx, order, allow_seq_idx) or (fallback and x.shape[1] < V6_MIN_LEN):
        return v4()
    if x.is_cuda and torch.cuda.is_current_stream_capturing():
        return v4()
    b, l, h, p = x.shape
    check_scan_order(order, height, width, l, seq_idx)
    okw = {} if order == 0 else dict(ORDER=order, HI=height, WI=width)  # order 0: the launches as they were
    g, n = B.shape[2], B.shape[3]
    dev = x.device
    f32 = torch.float32
    x, B, C, dout, initial_states = (_last_dim_contiguous(t) for t in (x, B, C, dout, initial_states))
    A = A.contiguous()
    D = D.contiguous() if D is not None else None
    dt_bias = dt_bias.contiguous() if dt_bias is not None else None
    dfinal = dfinal_states.to(f32).contiguous() if dfinal_states is not None else None
    lo, hi = limit_pair(dt_limit)
    K = chunk or V6_CHUNK
    BQ = block or V6_BLOCK
    sub = min(walk_tile or V6_SUB, K)  # the walks' tile (a chunk shorter than it is one tile)
    if K % BQ or K % sub or BQ < 16 or K > 1024:
        raise ValueError(f"backward v6 chunk {K} must be a multiple of its block {BQ} (>= 16) and of the walk "
                         f"tile {sub} (V6_SUB), at most 1024")
    NB = K // BQ
    block_p = max(16, next_pow2(p))
    block_n = max(16, next_pow2(n))
    ncc = cdiv(l, K)
    lp = ncc * K
    nsub = lp // sub
    exact = x.dtype == torch.float32 and not torch.backends.cuda.matmul.allow_tf32
    prec = "ieee" if exact else "tf32"
    dot_dtype = _dot_dtype(x.dtype)
    state_dtype = x.dtype if x.dtype in (torch.bfloat16, torch.float16) else f32
    compiled = x.is_cuda and not _INTERPRETED
    warps = num_warps or V6_WARPS
    opts = dict(num_warps=warps, **({"num_stages": num_stages or V6_STAGES} if compiled else {}))
    pair_opts = dict(opts, num_warps=num_warps or V6_PAIR_WARPS)

    # 0. dt and cumsums over chunks of K
    scratch = torch.empty((2, b * h, lp), device=dev, dtype=f32)
    dtp, csp = scratch[0], scratch[1]
    block_h = max(1, min(next_pow2(h), 8192 // K))
    has_seq = seq_idx is not None
    seq_arg = seq_idx if has_seq else dt
    seq_strides = (seq_idx.stride(0), seq_idx.stride(1)) if has_seq else (0, 0)
    _ssd_dt_cumsum_kernel[(ncc, b, cdiv(h, block_h))](
        dt, A, dt_bias if dt_bias is not None else A, dtp, csp, l, h, lp,
        dt.stride(0), dt.stride(1), dt.stride(2), lo, hi,
        CHUNK=K, BLOCK_H=block_h, HAS_DT_BIAS=dt_bias is not None, DT_SOFTPLUS=bool(dt_softplus),
        HAS_SEQ_IDX=has_seq, seq_idx=seq_arg, stride_sb=seq_strides[0], stride_sl=seq_strides[1], **okw,
        num_warps=4,
    )
    # the segment counter of each position in its chunk, as ssd_common.segment_ids counts it: changes of
    # seq_idx against the previous position (a change at the chunk's first position counts), [b, lp] int32
    if has_seq:
        chg = torch.zeros((b, lp), device=dev, dtype=torch.int32)
        chg[:, 1:l] = (seq_idx[:, 1:] != seq_idx[:, :-1]).to(torch.int32)
        seg = chg.view(b, ncc, K).cumsum(-1, dtype=torch.int32).view(b, lp)
    else:
        seg = dtp
    # 1, 2. the walks, one state per chunk, flagging non-finite loads
    npb = cdiv(p, 64)
    walk_bp = min(64, block_p)
    flags = torch.empty((2, b * h, npb), device=dev, dtype=torch.int32)
    states = torch.empty((b * h, ncc, p, n), device=dev, dtype=state_dtype)
    dstates = torch.empty_like(states)
    dinit = torch.empty((b, h, p, n), device=dev, dtype=f32) if initial_states is not None else None
    walk_launch = dict(num_warps=_v4.V4_WALK_WARPS,
                       **({"maxnreg": _v4.V4_WALK_MAXNREG} if compiled and _v4.V4_WALK_MAXNREG else {}))
    walk_flags = dict(CHUNK=sub, BLOCK_P=walk_bp, BLOCK_N=block_n, DOT_DTYPE=dot_dtype, DOT_PRECISION=prec,
                      HAS_SEQ_IDX=has_seq, STORE_EVERY=K // sub, COARSE=K // sub, FLAG=True)
    init_strides = ((initial_states.stride(0), initial_states.stride(1), initial_states.stride(2))
                    if initial_states is not None else (0, 0, 0))
    _ssd_bwd_walk_kernel[(npb, b * h)](
        x, B, x, dtp, csp, seq_arg, initial_states if initial_states is not None else x, states, states,
        l, h, p, n, h // g, lp, _loop_count(nsub), nsub,
        x.stride(0), x.stride(1), x.stride(2), B.stride(0), B.stride(1), B.stride(2), 0, 0, 0, *seq_strides,
        *init_strides,
        REVERSE=False, HAS_Z=False, HAS_START=initial_states is not None, STORE_LAST=False,
        flags=flags[0], **walk_flags, **okw, **walk_launch,
    )
    _ssd_bwd_walk_kernel[(npb, b * h)](
        dout, C, x, dtp, csp, seq_arg, dfinal if dfinal is not None else dout, dstates,
        dinit if dinit is not None else dstates,
        l, h, p, n, h // g, lp, _loop_count(nsub), nsub,
        dout.stride(0), dout.stride(1), dout.stride(2), C.stride(0), C.stride(1), C.stride(2), 0, 0, 0, *seq_strides,
        0, 0, 0,
        REVERSE=True, HAS_Z=False, HAS_START=dfinal is not None, STORE_LAST=dinit is not None,
        flags=flags[1], **walk_flags, **okw, **walk_launch,
    )
    # non-finite loads, or a cumsum that is not finite (dt * A = -inf: a state reset): both reduced on the
    # device into one flag, copied to the host behind an event; the pair kernel is queued before the host
    # waits on that event, so the GPU works through the wait (a plain sync here idled it until the next
    # launch; one read after every launch idled it through the host work after the backward: call24)
    bad = flags.any() | ~torch.isfinite(csp).all()
    if compiled:
        bad_host = torch.empty((), dtype=torch.bool, pin_memory=True)
        bad_host.copy_(bad, non_blocking=True)
        flag_read = torch.cuda.Event()
        flag_read.record()
    hpg = h // g
    strides = (x.stride(0), x.stride(1), x.stride(2), B.stride(0), B.stride(1), B.stride(2),
               C.stride(0), C.stride(1), C.stride(2), dout.stride(0), dout.stride(1), dout.stride(2))
    consts = dict(NB=NB, BQ=BQ, BLOCK_P=block_p, BLOCK_N=block_n, DOT_DTYPE=dot_dtype, DOT_PRECISION=prec)
    dims = (l, h, p, n, g, hpg, _loop_count(hpg), lp, ncc)
    # 3. block pairs: C B^T, W, the sums of G; the group's heads split while programs are few
    active = NB * (NB + 1) // 2 * ncc * b * g
    nsplit = nsplit or _pick_nsplit(hpg, active, V6_MIN_PAIR_PROGRAMS)
    if hpg % nsplit:
        raise ValueError(f"backward v6 nsplit must divide the heads per group {hpg}, got {nsplit}")
    cb = torch.empty((b * g, ncc, NB, NB, BQ, BQ), device=dev, dtype=state_dtype)
    w = torch.empty((nsplit, b * g, ncc, NB, NB, BQ, BQ), device=dev, dtype=f32)
    gsum = torch.empty((3, b * h, ncc, NB, NB, BQ), device=dev, dtype=f32)
    _v6_pair_kernel[(NB * NB, ncc, b * g * nsplit)](
        x, B, C, dout, dtp, csp, seg, cb, w, gsum[0], gsum[1], gsum[2],
        l, h, p, n, g, hpg, _loop_count(hpg // nsplit), lp, ncc, nsplit, *strides, **consts, HAS_SEQ_IDX=has_seq,
        **okw, **pair_opts)
    if compiled:
        flag_read.synchronize()  # the one host sync: the walks and the flag, not the pair kernel
        bad = bad_host
    if bool(bad):
        del scratch, states, dstates, flags, cb, w, gsum
        return v4()
    # 4. dx and the state terms
    dx = torch.empty((b, l, h, p), device=dev, dtype=x.dtype)
    sterm = torch.empty((2, b * h, lp), device=dev, dtype=f32)
    s_last = torch.empty((b * h, ncc, NB), device=dev, dtype=f32)
    dD_part = torch.empty((b, ncc * NB, h, p), device=dev, dtype=f32) if D is not None else None
    _v6_dx_kernel[(NB, ncc, b * h)](
        x, B, C, D if D is not None else A, dout, dtp, csp, seg, states, dstates, cb,
        dx, sterm[0], sterm[1], s_last, dD_part if dD_part is not None else s_last,
        *dims, *strides, **consts, HAS_D=D is not None, D_PER_CHANNEL=D is not None and D.dim() == 2, INTERP=not compiled,
        HAS_SEQ_IDX=has_seq, **okw, **opts)
    # 5. dB, dC
    dBC = torch.empty((2, b, l, g, n), device=dev, dtype=f32)
    _v6_dbc_kernel[(2 * NB, ncc, b * g)](
        x, B, C, dout, dtp, csp, seg, states, dstates, w, dBC[0], dBC[1], *dims, nsplit, _loop_count(nsplit),
        *strides, **consts, INTERP=not compiled, HAS_SEQ_IDX=has_seq, **okw, **opts)
    # 6. ddt, dA
    ddt = torch.empty((b, l, h), device=dev, dtype=f32)
    dA_part = torch.empty((b * h, ncc), device=dev, dtype=f32)
    _v6_dt_kernel[(ncc, b * h)](
        dt, A, dt_bias if dt_bias is not None else A, dtp, seg, gsum[0], gsum[1], gsum[2], sterm[0], sterm[1], s_last,
        ddt, dA_part, l, h, lp, ncc, dt.stride(0), dt.stride(1), dt.stride(2), lo, hi,
        NB=NB, BQ=BQ, K=K, HAS_DT_BIAS=dt_bias is not None, DT_SOFTPLUS=bool(dt_softplus), HAS_SEQ_IDX=has_seq,
        **okw, num_warps=4,
    )
    grads = {
        "dx": dx, "dz": None, "ddt": ddt,
        "dA": dA_part.view(b, h, ncc).sum((0, 2)),
        "dB": dBC[0], "dC": dBC[1],
        "ddt_bias": ddt.sum((0, 1)) if dt_bias is not None else None,
        "dinitial_states": dinit, "dD": None,
    }
    if D is not None:
        dD = dD_part.sum((0, 1))
        grads["dD"] = dD if D.dim() == 2 else dD.sum(1)
    return grads
