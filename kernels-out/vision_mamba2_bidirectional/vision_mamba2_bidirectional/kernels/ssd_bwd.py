# generated from examples/vision-mamba2-bidirectional.ts by @mamba2/codegen 0.1.0 -- do not edit
# ir-hash: ecdc1a8c1f3908dbc9b3232a151982a82ea56e47204e629702db577caff5a69c
# copied from packages/kernels/python/mamba2_kernels/kernels/ssd_bwd.py
"""Backward of the SSD scan (mamba_chunk_scan_combined), v4 (the default):
the dt pre-kernel, the forward and reverse state walks, the chunk kernel, the
wrapper, and the dispatch ssd_bwd (NOTES.md "Backward versions"). v5 / v5s
(the transposed chunk kernel, one or two launches, on v4's walks and wrapper)
are in ssd_bwd_T.py; both are selectable with ssd_bwd(impl=...). v3, the
first correct version, was removed on 2026-12-01 (slower than v4 at every
measured shape and not non-finite-exact; git history has it, see NOTES.md).

Sums over p (dB, dC, ddt, dA), over chunks (dA, dD) and over heads of a group
are written as partials and reduced with torch.sum: no atomics, so two
backward runs give bit-identical gradients.
"""
from __future__ import annotations

import math
import os

import torch
import triton
import triton.language as tl

from .fastlaunch import fast_launch
from .._config import LAUNCH
from .host import INTERPRETED as _INTERPRETED, cdiv, check_scan_order, dot_dtype as _dot_dtype, next_pow2
from .host import last_dim_contiguous as _last_dim_contiguous, limit_pair, loop_count as _loop_count
from .smem import fit_bwd
from .ssd_common import nonfinite_rows, row_offsets, segment_cumsum, segment_ids, x_finite
from .dt import _ssd_dt_cumsum_kernel
from .ssd_bwd_common import _dt_chunk, _op, _ssd_bwd_walk_kernel  # noqa: F401  (re-exported: ssd_bwd_T, tests, scripts)


# Tile length of the backward (the result does not depend on it). The chunk
# kernel holds Q x Q, Q x N and two P x N tiles (S_in and dS) in registers; at
# P 64, N 128 a 64 tile spills ~3.5 KB per thread on sm_90 and a 32 one ~1.3 KB.
# Defaults from the package's launch configuration (LAUNCH.bwd: 32, 8).
BWD_BLOCK_Q = LAUNCH.bwd.block_q
BWD_WARPS = LAUNCH.bwd.num_warps


@triton.jit
def _skip_program(csp, ROW, i_bh0, LP, t0, CHUNK: tl.constexpr, FLAG_HEADS: tl.constexpr,
                  BLOCK_HS: tl.constexpr, RESETS: tl.constexpr):
    """Whether this chunk-kernel program leaves its (chunk, heads i_bh0 ..
    i_bh0 + FLAG_HEADS of b * H) to the launch of the other form: the reset
    code (csp row 3, 2 ROW further; _ssd_dt_cumsum_kernel) of the chunk's
    last position is 2 R, R = the chunk's resets, so non-zero iff the chunk
    has one in that head. RESETS=False (the plain form) skips a program with
    a reset in any of its heads, RESETS=True one with none: each program
    runs in one form. FLAG_HEADS, BLOCK_HS = next_pow2 of it: constexprs."""
    p_code = csp + 2 * ROW + i_bh0 * LP + t0 + (CHUNK - 1)
    if BLOCK_HS == 1:
        b_code = tl.load(p_code)
    else:
        o_h = tl.arange(0, BLOCK_HS)
        b_code = tl.max(tl.load(p_code + o_h * LP, mask=o_h < FLAG_HEADS, other=0.0), axis=0)
    if RESETS:
        return b_code == 0
    else:
        return b_code > 0


@triton.jit
def _chunk_decays(csp, ROW, o_c, o_q, b_dt, b_seg, b_seg_last, m_ij,
                  CHUNK: tl.constexpr, HAS_SEQ_IDX: tl.constexpr, RESETS: tl.constexpr):
    """The chunk's decays and weights: (cs, cs_last, rst, segr, segr_last,
    m_ijr, w_out, e_state, keep, w_state, E). csp row 1 (offset o_c = (b*H +
    h) * LP + t0) is the cumsum, rows 2, 3 (ROW, 2 ROW further) the cumsum
    with the dt * A = -inf terms (dt = inf, A < 0) as 0 and the reset code
    2 R + r (_ssd_dt_cumsum_kernel with RESETS).
    RESETS=False (a chunk without a reset; NOTES.md "Non-finite inputs"):
    the plain cumsum, selects with seq_idx only (rst, segr are 0, m_ijr = m_ij).
    RESETS=True: such a term is a state reset. segr = segment + R, a counter
    that also changes at each reset, so every decay exp2(cs_i - cs_j) with
    segr_i == segr_j is finite and the recurrence's 0 across a reset is the
    mask m_ijr = m_ij & same segr."""
    if RESETS:
        b_cs = tl.load(csp + ROW + o_c + o_q)
        b_cs_last = tl.load(csp + ROW + o_c + (CHUNK - 1))
        b_code = tl.load(csp + 2 * ROW + o_c + o_q).to(tl.int32)
        b_rst = (b_code & 1) != 0
        b_segr = b_seg + (b_code >> 1)
        b_segr_last = b_seg_last + (tl.load(csp + 2 * ROW + o_c + (CHUNK - 1)).to(tl.int32) >> 1)
        m_ijr = m_ij & (b_segr[:, None] == b_segr[None, :])
        b_w_out = tl.where(b_segr == 0, tl.exp2(b_cs), 0.0)
        b_e_state = tl.where(b_segr == b_segr_last, tl.exp2(b_cs_last - b_cs), 0.0)
        b_keep = tl.where(b_segr_last == 0, tl.exp2(b_cs_last), 0.0)
        # on the product: dt_j Inf in an earlier sequence or segment times e_state 0
        b_w_state = tl.where(b_segr == b_segr_last, b_dt * b_e_state, 0.0)
    else:
        b_rst = 0
        b_segr = 0
        b_segr_last = 0
        m_ijr = m_ij
        b_cs = tl.load(csp + o_c + o_q)
        b_cs_last = tl.load(csp + o_c + (CHUNK - 1))
        b_w_out = tl.exp2(b_cs)
        b_e_state = tl.exp2(b_cs_last - b_cs)
        b_keep = tl.exp2(b_cs_last)
        if HAS_SEQ_IDX:
            b_w_out = tl.where(b_seg == 0, b_w_out, 0.0)
            b_e_state = tl.where(b_seg == b_seg_last, b_e_state, 0.0)
            b_keep = tl.where(b_seg_last == 0, b_keep, 0.0)
        b_w_state = b_dt * b_e_state
        if HAS_SEQ_IDX:  # on the product: dt_j Inf in an earlier sequence times e_state 0
            b_w_state = tl.where(b_seg == b_seg_last, b_w_state, 0.0)
    b_E = tl.exp2(tl.where(m_ijr, b_cs[:, None] - b_cs[None, :], -float("inf")))
    return (b_cs, b_cs_last, b_rst, b_segr, b_segr_last, m_ijr, b_w_out, b_e_state, b_keep, b_w_state, b_E)


@triton.jit
def _dS_keep(b_keep, b_dSS, b_seg_last, b_segr_last, HAS_SEQ_IDX: tl.constexpr, RESETS: tl.constexpr):
    """(d loss / d cs_last through the carried state, sum(dS * S_in)); b_yoff
    is selected already; a NaN S_in must not reach a new sequence (or segment)."""
    b_sdss = tl.sum(b_dSS, axis=0)
    if RESETS:
        b_dk = tl.where(b_segr_last == 0, b_keep * b_sdss, 0.0)
    else:
        b_dk = b_keep * b_sdss
        if HAS_SEQ_IDX:
            b_dk = tl.where(b_seg_last == 0, b_dk, 0.0)
    return b_dk, b_sdss


@triton.jit
def _decay_grad(b_dcs, b_segr, b_rst, b_seg, m_before, b_sdss, HAS_SEQ_IDX: tl.constexpr, RESETS: tl.constexpr):
    """d loss / d (dt_k A) from d loss / d cs_i: the sum over i >= k in k's
    segment: a suffix sum, not total - prefix (NaN - NaN would reach the
    earlier segments). RESETS=False: segments are the sequences (the whole
    suffix sum, the code before 2026-12-01, is exact too: the terms of later
    sequences cancel; but it rounds otherwise, and the plain form must give
    the exact form's result bit for bit). RESETS=True: they also end at
    resets. At a reset k the decay is exp(-inf) = 0 and its gradient exp(-inf) * (S_{k-1} . dh_k) is 0, NaN where the state
    before it is non-finite: an earlier reset of its sequence in the chunk,
    or (first sequence of the chunk) a non-finite S_in, which b_sdss = sum(dS
    * S_in) shows; a non-finite x before it sets ddt NaN (b_reach) by itself."""
    if RESETS:
        b_rc = segment_cumsum(b_dcs, b_segr, True)
        m_prev = tl.max((m_before & b_rst[None, :]).to(tl.int32), axis=1) > 0
        b_at = tl.where((b_sdss != b_sdss) | (tl.abs(b_sdss) == float("inf")), float("nan"), 0.0)
        if HAS_SEQ_IDX:
            b_at = tl.where(b_seg == 0, b_at, 0.0)
        b_at = tl.where(m_prev, float("nan"), b_at)
        b_rc = tl.where(b_rst, b_at, b_rc)
    elif HAS_SEQ_IDX:
        b_rc = segment_cumsum(b_dcs, b_seg, True)
    else:
        b_rc = tl.cumsum(b_dcs, axis=0, reverse=True)
    return b_rc


@fast_launch
@triton.jit
def _ssd_bwd_chunk_v4_kernel(
    x, dt, A, B, C, D, z, dt_bias, dtp, csp, seq_idx, states, dstates, dout,
    dx, dz, ddt, dB_part, dC_part, dA_part, dD_part,
    BATCH, L, H, P, N, G, HEADS_PER_GROUP, HEADS_PER_SPLIT, NSPLIT, LP, NC,
    N_HEADS_LOOP, N_PB_LOOP,
    stride_xb, stride_xl, stride_xh,
    stride_dtb, stride_dtl, stride_dth,
    stride_Bb, stride_Bl, stride_Bg,
    stride_Cb, stride_Cl, stride_Cg,
    stride_zb, stride_zl, stride_zh,
    stride_ob, stride_ol, stride_oh,
    stride_sb, stride_sl,
    dt_lo, dt_hi,
    CHUNK: tl.constexpr,
    BLOCK_P: tl.constexpr,
    BLOCK_N: tl.constexpr,
    DOT_DTYPE: tl.constexpr,
    DOT_PRECISION: tl.constexpr,
    HAS_D: tl.constexpr,
    D_PER_CHANNEL: tl.constexpr,
    HAS_Z: tl.constexpr,
    HAS_DT_BIAS: tl.constexpr,
    DT_SOFTPLUS: tl.constexpr,
    HAS_SEQ_IDX: tl.constexpr,
    DO_X: tl.constexpr,
    DO_BC: tl.constexpr,
    ORDER: tl.constexpr = 0,
    HI=1, WI=1,
    FLAG_HEADS: tl.constexpr = 1,
    RESETS: tl.constexpr = True,
    SKIP: tl.constexpr = False,
    BLOCK_HS: tl.constexpr = 1,
):
    """The gradients of one chunk for HEADS_PER_SPLIT heads of one group
    (grid (NC, BATCH * G * NSPLIT)); NSPLIT divides HEADS_PER_GROUP. Math as
    in the module docstring (M = (C B^T) * E * dt_j, dy = dout * silu(z)).
    DO_X: dx, dz, dD, ddt, dA; DO_BC: dB, dC (accumulated over the split's
    heads). v4 launches both in one kernel; v5s launches each alone (fewer
    registers per program, so more programs share an SM)."""
    i_c = tl.program_id(0)
    i_r = tl.program_id(1)
    i_s = i_r % NSPLIT
    i_bg = i_r // NSPLIT
    i_b = i_bg // G
    i_g = i_bg % G
    i_b64 = i_b.to(tl.int64)
    i_g64 = i_g.to(tl.int64)
    t0 = i_c.to(tl.int64) * CHUNK
    ELT = x.dtype.element_ty
    ROW = (i_b64 * 0 + BATCH * H) * LP  # csp rows (_chunk_decays)
    # SKIP: one form per program of FLAG_HEADS heads (v4 accumulates dB, dC over them in one
    # program); the exact form decides first, the plain form once its B, C loads are under way
    i_bh0 = i_b64 * H + i_g * HEADS_PER_GROUP + (i_s * HEADS_PER_SPLIT) // FLAG_HEADS * FLAG_HEADS
    if SKIP:
        if RESETS:
            if _skip_program(csp, ROW, i_bh0, LP, t0, CHUNK, FLAG_HEADS, BLOCK_HS, RESETS):
                return

    o_q = tl.arange(0, CHUNK)
    o_n = tl.arange(0, BLOCK_N)
    o_t = t0 + o_q
    o_w = row_offsets(o_q, t0, HI, WI, ORDER)  # rows in memory (ORDER 0: o_q)
    m_t = o_t < L
    m_n = o_n < N
    m_tn = m_t[:, None] & m_n[None, :]
    m_last = o_q == CHUNK - 1

    # ---- group tiles (C B^T once for every head of the split) ----
    b_B = tl.load(B + i_b64 * stride_Bb + i_g64 * stride_Bg + t0 * stride_Bl
                  + o_w[:, None] * stride_Bl + o_n[None, :], mask=m_tn, other=0.0)
    b_C = tl.load(C + i_b64 * stride_Cb + i_g64 * stride_Cg + t0 * stride_Cl
                  + o_w[:, None] * stride_Cl + o_n[None, :], mask=m_tn, other=0.0)
    if SKIP:
        if not RESETS:
            if _skip_program(csp, ROW, i_bh0, LP, t0, CHUNK, FLAG_HEADS, BLOCK_HS, RESETS):
                return
    b_B = _op(b_B, ELT, DOT_DTYPE)
    b_C = _op(b_C, ELT, DOT_DTYPE)
    if DO_X:
        b_CB = tl.dot(b_C, tl.trans(b_B), input_precision=DOT_PRECISION)
    m_ij = o_q[:, None] >= o_q[None, :]  # j <= i in i's sequence
    b_seg = 0
    b_seg_last = 0
    if HAS_SEQ_IDX:
        b_seg, b_seg_last = segment_ids(seq_idx + i_b64 * stride_sb, stride_sl, o_t, m_t)
        m_ij = m_ij & (b_seg[:, None] == b_seg[None, :])
    m_before = m_ij
    if RESETS:
        m_before = m_ij & (o_q[:, None] > o_q[None, :])  # j < i in i's sequence

    if DO_BC:
        b_acc_dB = tl.zeros([CHUNK, BLOCK_N], dtype=tl.float32)
        b_acc_dC = tl.zeros([CHUNK, BLOCK_N], dtype=tl.float32)
        b_xbad_g = tl.zeros([CHUNK], dtype=tl.int32)  # rows with a non-finite x in a head of the split
        b_reach_g = tl.zeros([CHUNK], dtype=tl.int32)  # rows one reaches
    # Non-finite x (NaN, Inf): every dot and sum but dD reads x with them as 0
    # (dM = dy x^T would meet the masked zeros of M, and ddt would sum terms
    # that cancel in exact arithmetic: NaN - NaN); the gradients the reference
    # makes non-finite are then set to NaN: dB at the bad row, ddt, dC and dz
    # from it to the end of its sequence (ssd_common.nonfinite_rows), dA where
    # a later row of its sequence is in the chunk. A NaN carried in S (later
    # chunks) flows by itself; with seq_idx every mask is a tl.where.
    for i_j in range(0, N_HEADS_LOOP):
        i_h = i_g * HEADS_PER_GROUP + i_s * HEADS_PER_SPLIT + i_j
        i_h64 = i_h.to(tl.int64)
        i_bh64 = i_b64 * H + i_h64
        b_A = tl.load(A + i_h).to(tl.float32)
        b_dt_bias = 0.0
        if HAS_DT_BIAS:
            b_dt_bias = tl.load(dt_bias + i_h).to(tl.float32)
        b_dt, b_ddt_draw = _dt_chunk(dt + i_b64 * stride_dtb + i_h64 * stride_dth + t0 * stride_dtl, o_w, m_t,
                                     stride_dtl, b_dt_bias, dt_lo, dt_hi, HAS_DT_BIAS, DT_SOFTPLUS)
        b_cs, b_cs_last, b_rst, b_segr, b_segr_last, m_ijr, b_w_out, b_e_state, b_keep, b_w_state, b_E = \
            _chunk_decays(csp, ROW, i_bh64 * LP + t0, o_q, b_dt, b_seg, b_seg_last, m_ij, CHUNK, HAS_SEQ_IDX, RESETS)
        if DO_X:
            # on the products (not * E = 0): an Inf dt_j must not reach rows of other segments
            b_CBE = tl.where(m_ijr, b_CB * b_E, 0.0)
            b_M = tl.where(m_ijr, b_CBE * b_dt[None, :], 0.0)
            b_Md = _op(b_M, ELT, DOT_DTYPE)
            b_dyoff = tl.zeros([CHUNK], dtype=tl.float32)
            b_dw = tl.zeros([CHUNK], dtype=tl.float32)
            b_dSS = tl.zeros([BLOCK_P], dtype=tl.float32)

        b_dM = tl.zeros([CHUNK, CHUNK], dtype=tl.float32)
        b_xbad = tl.zeros([CHUNK], dtype=tl.int32)
        o_state = i_bh64 * NC * P * N + i_c.to(tl.int64) * P * N
        for i_p in range(0, N_PB_LOOP):
            o_p = i_p * BLOCK_P + tl.arange(0, BLOCK_P)
            m_p = o_p < P
            m_tp = m_t[:, None] & m_p[None, :]
            m_pn = m_p[:, None] & m_n[None, :]
            b_x = tl.load(x + i_b64 * stride_xb + i_h64 * stride_xh + t0 * stride_xl
                          + o_w[:, None] * stride_xl + o_p[None, :], mask=m_tp, other=0.0).to(tl.float32)
            b_do = tl.load(dout + i_b64 * stride_ob + i_h64 * stride_oh + t0 * stride_ol
                           + o_w[:, None] * stride_ol + o_p[None, :], mask=m_tp, other=0.0).to(tl.float32)
            b_S = tl.load(states + o_state + o_p[:, None] * N + o_n[None, :], mask=m_pn, other=0.0)
            b_dS = tl.load(dstates + o_state + o_p[:, None] * N + o_n[None, :], mask=m_pn, other=0.0)
            m_xfin = x_finite(b_x)
            b_xbad = tl.maximum(b_xbad, tl.max((~m_xfin).to(tl.int32), axis=1))
            b_xc = tl.where(m_xfin, b_x, 0.0)
            b_Sd = _op(b_S, ELT, DOT_DTYPE)
            b_dSd = _op(b_dS, ELT, DOT_DTYPE)
            b_xd = _op(b_xc, ELT, DOT_DTYPE)
            if HAS_D:
                if D_PER_CHANNEL:
                    b_D = tl.load(D + i_h * P + o_p, mask=m_p, other=0.0).to(tl.float32)[None, :]
                else:
                    b_D = tl.load(D + i_h).to(tl.float32)
            if DO_X:
                b_yoff = tl.dot(b_C, tl.trans(b_Sd), input_precision=DOT_PRECISION)  # C_i . S_in[p]
                if HAS_SEQ_IDX:  # only rows of the chunk's first sequence see S_in
                    b_yoff = tl.where((b_seg == 0)[:, None], b_yoff, 0.0)
            if HAS_Z:
                b_z = tl.load(z + i_b64 * stride_zb + i_h64 * stride_zh + t0 * stride_zl
                              + o_w[:, None] * stride_zl + o_p[None, :], mask=m_tp, other=0.0).to(tl.float32)
                b_sig = tl.sigmoid(b_z)
                if DO_X:
                    b_y = b_yoff * b_w_out[:, None] + tl.dot(b_Md, b_xd, input_precision=DOT_PRECISION)
                    b_y = tl.where(nonfinite_rows(m_xfin, m_ij, 0, DOT_DTYPE),
                                   float("nan"), b_y)
                    if HAS_D:
                        b_y += b_x * b_D
                    b_dz = b_do * b_y * b_sig * (1.0 + b_z * (1.0 - b_sig))
                    tl.store(dz + ((i_b64 * L + t0) * H + i_h64) * P + o_w[:, None] * (H * P) + o_p[None, :],
                             b_dz.to(dz.dtype.element_ty), mask=m_tp)
                b_dy = b_do * b_z * b_sig
            else:
                b_dy = b_do
            b_dyd = _op(b_dy, ELT, DOT_DTYPE)
            b_dM += tl.dot(b_dyd, tl.trans(b_xd), input_precision=DOT_PRECISION)
            if DO_BC:
                b_dCS = tl.dot(b_dyd, b_Sd, input_precision=DOT_PRECISION) * b_w_out[:, None]
                if HAS_SEQ_IDX:
                    b_dCS = tl.where((b_seg == 0)[:, None], b_dCS, 0.0)
                b_acc_dC += b_dCS
                b_acc_dB += tl.dot(b_xd, b_dSd, input_precision=DOT_PRECISION) * b_w_state[:, None]
            if DO_X:
                b_U = tl.dot(b_B, tl.trans(b_dSd), input_precision=DOT_PRECISION)  # (dS B_j)[p]
                b_dx = tl.dot(tl.trans(b_Md), b_dyd, input_precision=DOT_PRECISION) + b_U * b_w_state[:, None]
                if HAS_D:
                    b_dx += b_dy * b_D
                    tl.store(dD_part + ((i_b64 * NC + i_c) * H + i_h64) * P + o_p, tl.sum(b_dy * b_x, axis=0),
                             mask=m_p)
                tl.store(dx + ((i_b64 * L + t0) * H + i_h64) * P + o_w[:, None] * (H * P) + o_p[None, :],
                         b_dx.to(dx.dtype.element_ty), mask=m_tp)
                b_dw += tl.sum(b_xc * b_U, axis=1)  # d loss / d w_state_j
                b_dyoff += tl.sum(b_dy * b_yoff, axis=1)
                b_dSS += tl.sum(b_dS.to(tl.float32) * b_S.to(tl.float32), axis=1)

        # rows this head's non-finite x reach (j <= i in i's sequence), and
        # those with one strictly before (their decay gradient, so dA, is NaN)
        m_bad_j = m_ij & (b_xbad[None, :] > 0)
        b_reach = tl.max(m_bad_j.to(tl.int32), axis=1)
        if DO_BC:
            b_xbad_g = tl.maximum(b_xbad_g, b_xbad)
            b_reach_g = tl.maximum(b_reach_g, b_reach)
            # ---- B and C through the intra-chunk matrix ----
            b_dCB = _op(tl.where(m_ijr, b_dM * b_E * b_dt[None, :], 0.0), ELT, DOT_DTYPE)
            b_acc_dC += tl.dot(b_dCB, b_B, input_precision=DOT_PRECISION)
            b_acc_dB += tl.dot(tl.trans(b_dCB), b_C, input_precision=DOT_PRECISION)
        if DO_X:
            # ---- dt and A through the decays ----
            b_G = b_dM * b_M
            b_dS_keep, b_sdss = _dS_keep(b_keep, b_dSS, b_seg_last, b_segr_last, HAS_SEQ_IDX, RESETS)
            b_dcs = b_w_out * b_dyoff + tl.sum(b_G, axis=1) - tl.sum(b_G, axis=0) - b_dw * b_w_state
            b_dlast = b_dS_keep + tl.sum(b_dw * b_w_state, axis=0)
            b_dcs += tl.where(m_last, b_dlast, 0.0)
            b_rc = _decay_grad(b_dcs, b_segr, b_rst, b_seg, m_before, b_sdss, HAS_SEQ_IDX, RESETS)
            b_ddt = tl.sum(b_dM * b_CBE, axis=0) + b_dw * b_e_state + b_rc * b_A
            b_ddt = tl.where(b_reach > 0, float("nan"), b_ddt)
            # where the clamp (or L) stops the gradient it is 0, NaN or not (as torch.clamp's)
            b_ddt = tl.where(b_ddt_draw == 0.0, 0.0, b_ddt * b_ddt_draw)
            tl.store(ddt + (i_b64 * L + t0) * H + i_h64 + o_w * H, b_ddt, mask=m_t)
            b_dA = tl.sum(b_dt * b_rc, axis=0)
            m_strict = m_bad_j & (o_q[:, None] != o_q[None, :]) & m_t[:, None]
            b_dA = tl.where(tl.max(tl.max(m_strict.to(tl.int32), axis=1), axis=0) > 0, float("nan"), b_dA)
            tl.store(dA_part + i_bh64 * NC + i_c, b_dA)

    if DO_BC:
        b_acc_dB = tl.where((b_xbad_g > 0)[:, None], float("nan"), b_acc_dB)
        b_acc_dC = tl.where((b_reach_g > 0)[:, None], float("nan"), b_acc_dC)
        o_part = (((i_s * BATCH + i_b64) * L + t0) * G + i_g64) * N + o_w[:, None] * (G * N) + o_n[None, :]
        tl.store(dB_part + o_part, b_acc_dB, mask=m_tn)
        tl.store(dC_part + o_part, b_acc_dC, mask=m_tn)


# v4 launch defaults (NOTES.md, backward v4; bench/results/2026-12-01-h200-ssd-bwd-v4.json):
# tile 32 / 8 warps beat tile 64 at every large shape (fwd+bwd (4, 4096, 80)
# 4.93 vs 7.91 ms): the 64 tile's chunk kernel spills 1.7-2.7 KB per thread.
# Defaults from the package's launch configuration (LAUNCH.bwd: 32, 8, 4).
V4_BLOCK_Q = LAUNCH.bwd.block_q
V4_CHUNK_WARPS = LAUNCH.bwd.num_warps
V4_WALK_WARPS = LAUNCH.bwd.walk_warps
V4_WALK_MAXNREG = 168
V4_CHUNK_MAXNREG = None
# Programs wanted for the chunk kernel before heads are split further (4 per SM of an H200).
_V4_MIN_PROGRAMS = 528
_H200_SMS = 132


def _pick_nsplit(hpg, programs_per_split, min_programs):
    """Largest useful head split: the smallest divisor s of hpg with
    programs_per_split * s >= min_programs (hpg itself if none)."""
    for s in range(1, hpg + 1):
        if hpg % s == 0 and programs_per_split * s >= min_programs:
            return s
    return hpg


def _ssd_bwd_v4(
    dout, x, dt, A, B, C, D=None, z=None, dt_bias=None, initial_states=None, seq_idx=None,
    dt_softplus=False, dt_limit=(0.0, math.inf), dfinal_states=None,
    *, block_p=None, block_q=None, num_warps=None, nsplit=None, walk_maxnreg=-1, chunk_maxnreg=-1,
    walk_warps=None, state_dtype=None, order=0, height=1, width=1, chunk_kernel=None, chunk_passes=None,
    exact_only=False,
):
    """v4, and the driver of v5s (ssd_bwd_T.py), which passes their chunk
    kernel (same arguments as v4's) and chunk_passes: launches of it as
    (DO_X, DO_BC, num_warps, maxnreg); a pass without DO_BC runs one head per
    program. Default: one launch of both halves with the chunk settings.
    Each pass is two launches (NOTES.md "Non-finite inputs"): the plain form
    (RESETS=False) where the program's chunk has no state reset (dt * A =
    -inf) in its heads, then the exact form (RESETS=True) where it has one;
    a program of the other form returns after reading the reset codes.
    exact_only: one exact launch per pass, every program (tests: the plain
    form's results equal it bit for bit where it runs)."""
    b, l, h, p = x.shape
    check_scan_order(order, height, width, l, seq_idx,
                     why=" (and backward v4, not v5s)" if chunk_kernel is not None else "")
    okw = {} if order == 0 else dict(ORDER=order, HI=height, WI=width)  # order 0: the launches as they were
    g, n = B.shape[2], B.shape[3]
    dev = x.device
    f32 = torch.float32
    x, B, C, z, dout, initial_states = (
        _last_dim_contiguous(t) for t in (x, B, C, z, dout, initial_states)
    )
    A = A.contiguous()
    D = D.contiguous() if D is not None else None
    dt_bias = dt_bias.contiguous() if dt_bias is not None else None
    dfinal = dfinal_states.to(f32).contiguous() if dfinal_states is not None else None
    lo, hi = limit_pair(dt_limit)

    block_p = block_p or LAUNCH.bwd.block_p or max(16, min(64, next_pow2(p)))
    block_n = max(16, next_pow2(n))
    block_q = block_q or V4_BLOCK_Q
    num_warps = num_warps or V4_CHUNK_WARPS
    walk_warps = walk_warps or V4_WALK_WARPS
    # tiles and stages whose shared memory fits the device (smem.py; Triton's default 3 stages when they fit)
    block_q, block_p, stages = fit_bwd(block_q, block_p, block_n, x.element_size(), z is not None, x.device)
    npb = cdiv(p, block_p)
    nc = cdiv(l, block_q)
    lp = nc * block_q
    exact = x.dtype == torch.float32 and not torch.backends.cuda.matmul.allow_tf32
    prec = "ieee" if exact else "tf32"
    dot_dtype = _dot_dtype(x.dtype)
    if state_dtype is None:
        state_dtype = x.dtype if x.dtype in (torch.bfloat16, torch.float16) else f32
    compiled = x.is_cuda and not _INTERPRETED

    def launch_opts(warps, maxnreg):  # maxnreg only where compiled (the interpreter takes none)
        return dict(num_warps=warps, num_stages=stages, **({"maxnreg": maxnreg} if compiled and maxnreg else {}))
    walk_launch = launch_opts(walk_warps, V4_WALK_MAXNREG if walk_maxnreg == -1 else walk_maxnreg)
    if chunk_passes is None:
        chunk_passes = ((True, True, num_warps, V4_CHUNK_MAXNREG if chunk_maxnreg == -1 else chunk_maxnreg),)

    # 0. dt prologue and chunk-local cumsums (fp32 rows padded to lp)
    scratch = torch.empty((4, b * h, lp), device=dev, dtype=f32)
    dtp, csp = scratch[0], scratch[1]
    rsp = scratch[2:]  # the chunk kernels' decays: cumsum with resets, reset code (_chunk_decays)
    block_h = min(64, next_pow2(h))
    seq_arg = seq_idx if seq_idx is not None else dt
    seq_strides = (seq_idx.stride(0), seq_idx.stride(1)) if seq_idx is not None else (0, 0)
    _ssd_dt_cumsum_kernel[(nc, b, cdiv(h, block_h))](
        dt, A, dt_bias if dt_bias is not None else A, dtp, csp,
        l, h, lp,
        dt.stride(0), dt.stride(1), dt.stride(2),
        lo, hi,
        CHUNK=block_q, BLOCK_H=block_h, HAS_DT_BIAS=dt_bias is not None, DT_SOFTPLUS=bool(dt_softplus),
        # the cumsum restarts at sequence starts, as the forward's: an Inf in dt
        # (cs -inf from there) must not reach the later sequences of its chunk
        HAS_SEQ_IDX=seq_idx is not None, seq_idx=seq_arg, stride_sb=seq_strides[0], stride_sl=seq_strides[1],
        **okw, RESETS=True, rsp=rsp, num_warps=4,
    )
    z_arg = z if z is not None else x
    z_strides = (z.stride(0), z.stride(1), z.stride(2)) if z is not None else (0, 0, 0)
    walk_flags = dict(CHUNK=block_q, BLOCK_P=block_p, BLOCK_N=block_n, DOT_DTYPE=dot_dtype, DOT_PRECISION=prec,
                      HAS_SEQ_IDX=seq_idx is not None)
    grid_walk = (npb, b * h)

    # 1. forward walk: S entering every chunk
    states = torch.empty((b * h, nc, p, n), device=dev, dtype=state_dtype)
    init_strides = (
        (initial_states.stride(0), initial_states.stride(1), initial_states.stride(2))
        if initial_states is not None else (0, 0, 0)
    )
    _ssd_bwd_walk_kernel[grid_walk](
        x, B, x, dtp, csp, seq_arg,
        initial_states if initial_states is not None else x,
        states, states,
        l, h, p, n, h // g, lp, _loop_count(nc), nc,
        x.stride(0), x.stride(1), x.stride(2),
        B.stride(0), B.stride(1), B.stride(2),
        0, 0, 0,
        *seq_strides, *init_strides,
        REVERSE=False, HAS_Z=False, HAS_START=initial_states is not None, STORE_LAST=False,
        **walk_flags, **okw, **walk_launch,
    )

    # 2. reverse walk: dS leaving every chunk
    dstates = torch.empty_like(states)
    dinit = torch.empty((b, h, p, n), device=dev, dtype=f32) if initial_states is not None else None
    _ssd_bwd_walk_kernel[grid_walk](
        dout, C, z_arg, dtp, csp, seq_arg,
        dfinal if dfinal is not None else dout,
        dstates,
        dinit if dinit is not None else dstates,
        l, h, p, n, h // g, lp, _loop_count(nc), nc,
        dout.stride(0), dout.stride(1), dout.stride(2),
        C.stride(0), C.stride(1), C.stride(2),
        *z_strides, *seq_strides,
        0, 0, 0,
        REVERSE=True, HAS_Z=z is not None, HAS_START=dfinal is not None, STORE_LAST=dinit is not None,
        **walk_flags, **okw, **walk_launch,
    )

    # 3. per (chunk, batch, group, head-split)
    hpg = h // g
    if nsplit is None:
        nsplit = _pick_nsplit(hpg, nc * b * g, _V4_MIN_PROGRAMS)
    if hpg % nsplit:
        raise ValueError(f"nsplit must divide heads per group {hpg}, got {nsplit}")
    hps = hpg // nsplit
    dx = torch.empty((b, l, h, p), device=dev, dtype=x.dtype)
    dz = torch.empty((b, l, h, p), device=dev, dtype=z.dtype) if z is not None else None
    ddt = torch.empty((b, l, h), device=dev, dtype=f32)
    dBC_part = torch.empty((2, nsplit, b, l, g, n), device=dev, dtype=f32)
    dA_part = torch.empty((b, h, nc), device=dev, dtype=f32)
    dD_part = torch.empty((b, nc, h, p), device=dev, dtype=f32) if D is not None else None
    outs = (dx, dz if dz is not None else dx, ddt, dBC_part[0], dBC_part[1], dA_part,
            dD_part if dD_part is not None else dA_part)
    args = (
        b, l, h, p, n, g, hpg, hps, nsplit, lp, nc, _loop_count(hps), _loop_count(npb),
        x.stride(0), x.stride(1), x.stride(2),
        dt.stride(0), dt.stride(1), dt.stride(2),
        B.stride(0), B.stride(1), B.stride(2),
        C.stride(0), C.stride(1), C.stride(2),
        *z_strides,
        dout.stride(0), dout.stride(1), dout.stride(2),
        *seq_strides,
        lo, hi,
    )
    ins = (x, dt, A, B, C, D if D is not None else A, z_arg, dt_bias if dt_bias is not None else A,
           dtp, csp, seq_arg, states, dstates, dout)  # csp: rows 1, 2, 3 of scratch (_chunk_decays)
    cflags = dict(
        CHUNK=block_q, BLOCK_P=block_p, BLOCK_N=block_n, DOT_DTYPE=dot_dtype, DOT_PRECISION=prec,
        HAS_D=D is not None, D_PER_CHANNEL=D is not None and D.dim() == 2, HAS_Z=z is not None,
        HAS_DT_BIAS=dt_bias is not None, DT_SOFTPLUS=bool(dt_softplus), HAS_SEQ_IDX=seq_idx is not None,
        **okw,
    )
    kern = chunk_kernel or _ssd_bwd_chunk_v4_kernel
    # (RESETS, SKIP) of each pass's launches; a program is decided on the heads of its split
    forms = ((True, False),) if exact_only else ((False, True), (True, True))
    flags = dict(FLAG_HEADS=hps, BLOCK_HS=next_pow2(hps))
    for do_x, do_bc, warps, maxnreg in chunk_passes:
        for resets, skip in forms:
            if do_bc or (resets and skip):  # the exact launch of a DO_X pass: the split's grid (few programs)
                kern[(nc, b * g * nsplit)](
                    *ins, *outs, *args, DO_X=do_x, DO_BC=do_bc, RESETS=resets, SKIP=skip, **flags, **cflags,
                    **launch_opts(warps, maxnreg))
            else:  # one head per program: HEADS_PER_SPLIT 1, NSPLIT hpg, one head loop
                args_x = args[:7] + (1, hpg) + args[9:11] + (_loop_count(1),) + args[12:]
                kern[(nc, b * h)](
                    *ins, *outs, *args_x, DO_X=do_x, DO_BC=False, RESETS=resets, SKIP=skip, **flags, **cflags,
                    **launch_opts(warps, maxnreg))
    dBC = dBC_part[:, 0] if nsplit == 1 else dBC_part.sum(1)
    grads = {
        "dx": dx,
        "dz": dz,
        "ddt": ddt,
        "dA": dA_part.sum((0, 2)),
        "dB": dBC[0],
        "dC": dBC[1],
        "ddt_bias": ddt.sum((0, 1)) if dt_bias is not None else None,
        "dinitial_states": dinit,
        "dD": None,
    }
    if D is not None:
        dD = dD_part.sum((0, 1))
        grads["dD"] = dD if D.dim() == 2 else dD.sum(1)
    return grads


# Which backward ssd_bwd runs: "v6" (the default: states every 128 positions, ssd_bwd_v6.py; it gives
# z, seq_idx in another scan order, short sequences and non-finite inputs to v4), "v4" or "v5s".
BWD_IMPL = os.environ.get("MAMBA2_SSD_BWD", LAUNCH.bwd.impl)


def ssd_bwd(
    dout, x, dt, A, B, C, D=None, z=None, dt_bias=None, initial_states=None, seq_idx=None,
    dt_softplus=False, dt_limit=(0.0, math.inf), dfinal_states=None,
    *, impl=None, **launch,
):
    """Gradients of the SSD scan. Inputs as for mamba_chunk_scan_combined
    (validated by the caller); dout: [b, l, h, p] gradient of out;
    dfinal_states: [b, h, p, n] gradient of final_states | None.
    impl: "v6" | "v5s" | "v4" | None (BWD_IMPL, env MAMBA2_SSD_BWD); launch: overrides
    of that version's launch settings (the result does not depend on them
    beyond rounding); exact_only=True (tests): the chunk kernels' exact form
    alone over every program (_ssd_bwd_v4; the same result bit for bit on CPU).
    v6 and v4 also take order, height, width: the gradients of a scan in another order
    over a height x width image (ssd_common.token_index; cross_scan.py), every
    tensor and gradient in natural token order.

    Returns a dict of gradients: dx [b, l, h, p] (x.dtype), ddt [b, l, h]
    (raw dt: through dt_bias, softplus and clamp), dA [h], dB, dC [b, l, g, n],
    dD ([h] or [h, p]) | None, dz [b, l, h, p] | None, ddt_bias [h] | None,
    dinitial_states [b, h, p, n] | None (all float32 except dx, dz).
    """
    impl = BWD_IMPL if impl is None else impl
    if impl == "v4":
        fn = _ssd_bwd_v4
    elif impl == "v6":  # its module imports this one: imported here, not at the top
        from . import ssd_bwd_v6
        fn = ssd_bwd_v6._ssd_bwd_v6
    elif impl == "v5s":  # its module imports this one: imported here, not at the top
        from . import ssd_bwd_T
        fn = ssd_bwd_T._ssd_bwd_v5s
    elif impl == "v3":
        raise ValueError("ssd_bwd impl 'v3' was removed (slower than 'v4' at every measured shape, and it spread "
                         "NaN/Inf where the recurrence does not); use impl='v4' (the default) or unset MAMBA2_SSD_BWD")
    elif impl == "v5":
        raise ValueError("ssd_bwd impl 'v5' (the transposed chunk kernel in one launch) was removed: on the H200 it "
                         "read out of bounds or gave wrong dB/dC (sweep of 2026-12-01e, NOTES.md) and it was never "
                         "faster; use impl='v5s' (the same kernel in two launches) or 'v4' (the default)")
    else:
        raise ValueError(f"ssd_bwd impl must be 'v6', 'v5s' or 'v4', got {impl!r}; set it with impl=... or "
                         "MAMBA2_SSD_BWD")
    return fn(dout, x, dt, A, B, C, D=D, z=z, dt_bias=dt_bias, initial_states=initial_states,
              seq_idx=seq_idx, dt_softplus=dt_softplus, dt_limit=dt_limit, dfinal_states=dfinal_states,
              **launch)
