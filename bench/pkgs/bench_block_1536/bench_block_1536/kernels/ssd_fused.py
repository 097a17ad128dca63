# generated from bench/models/block-1536.ts by @mamba2/codegen 0.1.0 -- do not edit
# ir-hash: ce276f111d871043363d32dc37007098a1356a3db65f4054f8f567e129ec5a3c
# copied from packages/kernels/python/mamba2_kernels/kernels/ssd_fused.py
"""Fused SSD scan: the running state stays on chip, per-chunk states never go
to HBM. Two forms of the same walk (ssd_fused_fwd picks: ssd_fused_dispatch.py):
one launch for small problems (_ssd_fused_fwd_kernel, in ssd_fused_one.py, with
the walk's math), and for larger ones the T+pre path (dt pre-kernel +
transposed walk + optional split-L, see _ssd_fused_T_kernel below).
"""
from __future__ import annotations

import functools
import math

import torch
import triton
import triton.language as tl

from .fastlaunch import fast_launch
from .._config import LAUNCH
from .host import INTERPRETED as _INTERPRETED
from .host import (
    cdiv, check_scan_order, dot_dtype, dt_chain_for, last_dim_contiguous, limit_pair, loop_count, next_pow2,
    scan_epilogue_for,
)
from . import ssd_fused_dispatch as dispatch
from .dt import _ssd_dt_cumsum_kernel
from .smem import fit_fused
from .ssd_common import carry_state, load_skip, nonfinite_rows, row_offsets, segment_ids, x_finite
from .ssd_fused_one import _ssd_fused_fwd_kernel  # the one-launch form; tests patch it here


# ---------------------------------------------------------------------------
# T+pre path (medium and large problems): three small pieces instead of one.
#   1. _ssd_dt_cumsum_kernel: dt prologue and the chunk-local cumsum, once per
#      (b, h, t) into padded fp32 rows, so the walk has no per-chunk scans or
#      reductions (each costs a barrier round inside the latency-bound loop).
#   2. _ssd_state_T_kernel (split-L only): local end state and total decay of
#      every L-segment but the last, so the segments can walk in parallel when
#      b * h * p_blocks programs alone would leave SMs idle.
#   3. _ssd_fused_T_kernel: the walk in transposed form,
#          y^T [P, Q] = x^T W^T + S (C^T * w_out),   S <- S * keep + (x^T * w_state) B
#      S [P, N] is the left operand of both of its dots, so the fp32 state goes
#      from accumulator to dot operand in registers (no shared-memory round trip)
#      and every big dot has M = BLOCK_P (wgmma-sized at CHUNK 32 on sm_90).
# ---------------------------------------------------------------------------
@fast_launch
@triton.jit
def _ssd_state_T_kernel(
    x, B, dtp, csp, seq_idx, sseg, dseg,
    L, H, P, N, HEADS_PER_GROUP, LP, SEG_CHUNKS, NSEG, SEG_LOOP,
    stride_xb, stride_xl, stride_xh,
    stride_Bb, stride_Bl, stride_Bg,
    stride_sb, stride_sl,
    CHUNK: tl.constexpr,
    BLOCK_P: tl.constexpr,
    BLOCK_N: tl.constexpr,
    DOT_DTYPE: tl.constexpr,
    HAS_SEQ_IDX: tl.constexpr,
    ORDER: tl.constexpr = 0,
    HI=1, WI=1,
):
    """Split-L pass 1, grid (p_blocks, B * H, NSEG - 1): the end state of
    L-segment i_k started from zero, and its total log2 decay (-inf when a
    sequence starts inside it: nothing from before may pass through)."""
    i_p = tl.program_id(0)
    i_bh = tl.program_id(1)
    i_k = tl.program_id(2)
    i_b = i_bh // H
    i_h = i_bh % H
    i_g = i_h // HEADS_PER_GROUP
    i_bh64 = i_bh.to(tl.int64)

    o_q = tl.arange(0, CHUNK)
    o_p = i_p * BLOCK_P + tl.arange(0, BLOCK_P)
    o_n = tl.arange(0, BLOCK_N)
    m_p = o_p < P
    m_n = o_n < N

    t0 = i_k * SEG_CHUNKS * CHUNK
    t0_64 = t0.to(tl.int64)
    p_x = x + i_b.to(tl.int64) * stride_xb + i_h.to(tl.int64) * stride_xh + t0_64 * stride_xl
    p_B = B + i_b.to(tl.int64) * stride_Bb + i_g.to(tl.int64) * stride_Bg + t0_64 * stride_Bl
    p_dtp = dtp + i_bh64 * LP + t0_64
    p_csp = csp + i_bh64 * LP + t0_64
    if HAS_SEQ_IDX:
        p_s = seq_idx + i_b.to(tl.int64) * stride_sb
    o_xT = o_p[:, None] + o_q[None, :] * stride_xl
    o_B = o_q[:, None] * stride_Bl + o_n[None, :]

    b_S = tl.zeros([BLOCK_P, BLOCK_N], dtype=tl.float32)
    b_dec = tl.zeros([1], dtype=tl.float32)
    for i_c in range(0, SEG_LOOP):
        o_t = t0 + i_c * CHUNK + o_q
        m_t = o_t < L
        if ORDER == 0:
            o_xc, o_Bc = o_xT, o_B
        else:  # the chunk's rows through the order's index map
            o_r = row_offsets(o_q, t0 + i_c * CHUNK, HI, WI, ORDER)
            o_xc = o_p[:, None] + o_r[None, :] * stride_xl
            o_Bc = o_r[:, None] * stride_Bl + o_n[None, :]
        b_x = tl.load(p_x + o_xc, mask=m_p[:, None] & m_t[None, :], other=0.0)
        b_B = tl.load(p_B + o_Bc, mask=m_t[:, None] & m_n[None, :], other=0.0)
        b_B = b_B.to(x.dtype.element_ty).to(DOT_DTYPE)
        b_dt = tl.load(p_dtp + o_q)
        b_cs = tl.load(p_csp + o_q)
        b_cs_last = tl.load(p_csp + (CHUNK - 1))
        b_w_state = b_dt * tl.exp2(b_cs_last - b_cs)
        b_keep = tl.exp2(b_cs_last)
        b_step = b_cs_last  # log2 decay this chunk applies to what came before it
        b_xw = b_x.to(tl.float32) * b_w_state[None, :]
        b_acc = b_S * b_keep
        if HAS_SEQ_IDX:  # tl.where, not * 0: see the one-launch kernel
            b_seg, b_seg_last = segment_ids(p_s, stride_sl, o_t, m_t)
            m_lastseg = b_seg == b_seg_last
            b_xw = tl.where(m_lastseg[None, :], b_xw, 0.0)
            b_B = tl.where(m_lastseg[:, None], b_B, 0.0)  # both operands: 0 * NaN
            b_acc = tl.where(b_seg_last == 0, b_acc, 0.0)
            b_step = tl.where(b_seg_last == 0, b_step, -float("inf"))
        b_xw = b_xw.to(x.dtype.element_ty).to(DOT_DTYPE)
        b_S = tl.dot(b_xw, b_B, acc=b_acc)
        b_dec += b_step

        p_x += CHUNK * stride_xl
        p_B += CHUNK * stride_Bl
        p_dtp += CHUNK
        p_csp += CHUNK

    p_sseg = sseg + (i_bh64 * NSEG + i_k) * P * N
    tl.store(p_sseg + o_p[:, None] * N + o_n[None, :], b_S, mask=m_p[:, None] & m_n[None, :])
    # every p-block computes the same decay; one of them writes it
    tl.store(dseg + i_bh64 * NSEG + i_k + tl.arange(0, 1), b_dec, mask=(tl.arange(0, 1) == 0) & (i_p == 0))


_OFF_LOOP = tl.constexpr(not _INTERPRETED)


@triton.jit
def _walk_T(
    x, dtp, csp, B, C, D, z, init, seq_idx, sseg, dseg, out, final, flags,
    L, H, P, N, HEADS_PER_GROUP, LP, SEG_CHUNKS, NSEG, SEG_LOOP, NSEG_LOOP,
    stride_xb, stride_xl, stride_xh, stride_Bb, stride_Bl, stride_Bg, stride_Cb, stride_Cl, stride_Cg,
    stride_zb, stride_zl, stride_zh, stride_ob, stride_ol, stride_oh, stride_ib, stride_ih, stride_ip,
    stride_sb, stride_sl,
    CHUNK: tl.constexpr, BLOCK_P: tl.constexpr, BLOCK_N: tl.constexpr, DOT_DTYPE: tl.constexpr,
    HAS_D: tl.constexpr, D_PER_CHANNEL: tl.constexpr, HAS_Z: tl.constexpr, HAS_INIT: tl.constexpr,
    HAS_SEQ_IDX: tl.constexpr, STORE_FINAL: tl.constexpr, SPLIT: tl.constexpr, SCAN_EPILOGUE: tl.constexpr,
    ORDER: tl.constexpr, ACCUMULATE: tl.constexpr, HI, WI,
    EXACT: tl.constexpr,
    prev=None, ysum=None, PREV: tl.constexpr = False, STORE_YSUM: tl.constexpr = False, pid_off=0,
    MASK_EXP: tl.constexpr = False,
):
    """One walk of program (i_p, i_bh, i_k) of _ssd_fused_T_kernel; EXACT picks
    the form (see there). Returns the program's flag (plain form; 0 when EXACT).
    PREV, STORE_YSUM: as in the one-launch kernel (cross_scan.py merge 'chain').
    pid_off: added to the program ids and the aranges; 0 (the plain walk: a
    constant, folded away), or a runtime 0 for the inlined re-walk (REWALK).
    MASK_EXP (plain form only; ssd_fused_dispatch.mask_exponent): the causal
    decay mask on the exponent, and the flag from every chunk's outputs."""
    i_p = tl.program_id(0) + pid_off
    i_bh = tl.program_id(1) + pid_off
    i_k = tl.program_id(2) + pid_off
    # the scalars too (pointer steps, bounds, strides): else both walks share them, live from before the plain loop
    # (the pointers not: pointer + runtime 0 cost the exact loop its alignment, 67/57 spills per chunk there)
    L, H, P, N, HEADS_PER_GROUP = L + pid_off, H + pid_off, P + pid_off, N + pid_off, HEADS_PER_GROUP + pid_off
    LP, SEG_CHUNKS, NSEG = LP + pid_off, SEG_CHUNKS + pid_off, NSEG + pid_off
    if _OFF_LOOP:  # (the interpreter's range() takes no tensor)
        SEG_LOOP = SEG_LOOP + pid_off
    stride_xb, stride_xl, stride_xh = stride_xb + pid_off, stride_xl + pid_off, stride_xh + pid_off
    stride_Bb, stride_Bl, stride_Bg = stride_Bb + pid_off, stride_Bl + pid_off, stride_Bg + pid_off
    stride_Cb, stride_Cl, stride_Cg = stride_Cb + pid_off, stride_Cl + pid_off, stride_Cg + pid_off
    stride_zb, stride_zl, stride_zh = stride_zb + pid_off, stride_zl + pid_off, stride_zh + pid_off
    stride_ob, stride_ol, stride_oh = stride_ob + pid_off, stride_ol + pid_off, stride_oh + pid_off
    stride_sb, stride_sl = stride_sb + pid_off, stride_sl + pid_off
    i_b = i_bh // H
    i_h = i_bh % H
    i_g = i_h // HEADS_PER_GROUP
    i_b64 = i_b.to(tl.int64)
    i_h64 = i_h.to(tl.int64)
    i_bh64 = i_bh.to(tl.int64)


    o_q = tl.arange(0, CHUNK) + pid_off
    o_p = i_p * BLOCK_P + tl.arange(0, BLOCK_P)
    o_n = tl.arange(0, BLOCK_N) + pid_off
    m_p = o_p < P
    m_n = o_n < N

    # int64 base offsets (B*L*H*P may pass 2^31); in-chunk offsets stay int32.
    t0 = i_k * SEG_CHUNKS * CHUNK
    t0_64 = t0.to(tl.int64)
    p_x = x + i_b64 * stride_xb + i_h64 * stride_xh + t0_64 * stride_xl
    p_B = B + i_b64 * stride_Bb + i_g.to(tl.int64) * stride_Bg + t0_64 * stride_Bl
    p_C = C + i_b64 * stride_Cb + i_g.to(tl.int64) * stride_Cg + t0_64 * stride_Cl
    p_o = out + i_b64 * stride_ob + i_h64 * stride_oh + t0_64 * stride_ol
    if PREV:  # prev and ysum have out's strides
        p_prev = prev + i_b64 * stride_ob + i_h64 * stride_oh + t0_64 * stride_ol
    if STORE_YSUM:
        p_ys = ysum + i_b64 * stride_ob + i_h64 * stride_oh + t0_64 * stride_ol
    p_dtp = dtp + i_bh64 * LP + t0_64
    p_csp = csp + i_bh64 * LP + t0_64
    if HAS_Z:
        p_z = z + i_b64 * stride_zb + i_h64 * stride_zh + t0_64 * stride_zl
    if HAS_SEQ_IDX:
        p_s = seq_idx + i_b64 * stride_sb

    # x^T, z^T, out^T [P, Q], B [Q, N], C^T [N, Q]: transposes by addressing only
    o_xT = o_p[:, None] + o_q[None, :] * stride_xl
    o_oT = o_p[:, None] + o_q[None, :] * stride_ol
    o_B = o_q[:, None] * stride_Bl + o_n[None, :]
    o_CT = o_n[:, None] + o_q[None, :] * stride_Cl
    if HAS_Z:
        o_zT = o_p[:, None] + o_q[None, :] * stride_zl

    b_D = load_skip(D, i_h, o_p, m_p, P, HAS_D, D_PER_CHANNEL, 0)

    if HAS_INIT:
        p_init = init + i_b64 * stride_ib + i_h64 * stride_ih
        m_pn = m_p[:, None] & m_n[None, :]
        b_S = tl.load(p_init + o_p[:, None] * stride_ip + o_n[None, :], mask=m_pn, other=0.0).to(tl.float32)
    else:
        b_S = tl.zeros([BLOCK_P, BLOCK_N], dtype=tl.float32)
    if SPLIT:
        # state entering segment i_k: S <- S * exp2(dec_j) + S_j over the earlier
        # segments (pass 1); a segment with a reset has dec -inf and drops S.
        p_sseg = sseg + i_bh64 * NSEG * P * N + o_p[:, None] * N + o_n[None, :]
        m_pn = m_p[:, None] & m_n[None, :]
        for j in range(0, NSEG_LOOP):
            m_j = j < i_k
            b_Sj = tl.load(p_sseg + j * P * N, mask=m_pn & m_j, other=0.0)
            b_dj = tl.load(dseg + i_bh64 * NSEG + j, mask=m_j, other=0.0)
            b_S = carry_state(b_S, b_dj, b_Sj, b_dj == -float("inf"))

    # W^T[j, i] = (B C^T)[j, i] * exp2(cs_i - cs_j) * dt_j for i >= j
    m_causal = o_q[None, :] >= o_q[:, None]
    # the flag's per-chunk check: with seq_idx (the state is reset), and with the exponent mask (C and G)
    CHK_Y: tl.constexpr = not EXACT and (HAS_SEQ_IDX or MASK_EXP)
    if CHK_Y:
        b_chk = tl.zeros([BLOCK_P], dtype=tl.float32)
    for i_c in range(0, SEG_LOOP):
        o_t = t0 + i_c * CHUNK + o_q
        m_t = o_t < L
        m_pt = m_p[:, None] & m_t[None, :]
        if ORDER == 0:
            o_xc, o_oc, o_Bc, o_Cc = o_xT, o_oT, o_B, o_CT
            if HAS_Z:
                o_zc = o_zT
        else:  # the chunk's rows through the order's index map
            o_r = row_offsets(o_q, t0 + i_c * CHUNK, HI, WI, ORDER)
            o_xc = o_p[:, None] + o_r[None, :] * stride_xl
            o_oc = o_p[:, None] + o_r[None, :] * stride_ol
            o_Bc = o_r[:, None] * stride_Bl + o_n[None, :]
            o_Cc = o_n[:, None] + o_r[None, :] * stride_Cl
            if HAS_Z:
                o_zc = o_p[:, None] + o_r[None, :] * stride_zl

        # ---- loads of this chunk: none of them depends on the state ----
        b_B = tl.load(p_B + o_Bc, mask=m_t[:, None] & m_n[None, :], other=0.0)
        b_C = tl.load(p_C + o_Cc, mask=m_n[:, None] & m_t[None, :], other=0.0)
        b_x = tl.load(p_x + o_xc, mask=m_pt, other=0.0)
        b_dt = tl.load(p_dtp + o_q)
        b_cs = tl.load(p_csp + o_q)
        b_cs_last = tl.load(p_csp + (CHUNK - 1))
        if EXACT:
            m_xfin = x_finite(b_x)  # see the one-launch kernel
            b_xd = tl.where(m_xfin, b_x, 0.0).to(DOT_DTYPE)
        else:
            b_xd = b_x.to(DOT_DTYPE)
        b_B = b_B.to(x.dtype.element_ty).to(DOT_DTYPE)
        b_C = b_C.to(x.dtype.element_ty).to(DOT_DTYPE)

        # ---- decays and segment masks (tl.where, not * 0: see the one-launch kernel) ----
        m_ij = m_causal
        b_w_out = tl.exp2(b_cs)  # weight of the carried state in each output
        b_w_state = b_dt * tl.exp2(b_cs_last - b_cs)  # weight of each position in the new state
        b_keep = tl.exp2(b_cs_last)  # how much of the old state survives the chunk
        if HAS_SEQ_IDX:
            b_seg, b_seg_last = segment_ids(p_s, stride_sl, o_t, m_t)
            m_ij = m_ij & (b_seg[:, None] == b_seg[None, :])

        # ---- outputs: intra-chunk + carried state ----
        b_G = tl.dot(b_B, b_C)
        if MASK_EXP and not EXACT:  # masked terms G * 0 * dt: NaN where G is not finite, flagged by CHK_Y
            b_WT = b_G * tl.exp2(tl.where(m_ij, b_cs[None, :] - b_cs[:, None], -float("inf"))) * b_dt[:, None]
        else:
            b_WT = tl.where(m_ij, b_G * tl.exp2(b_cs[None, :] - b_cs[:, None]) * b_dt[:, None], 0.0)
        b_y = tl.dot(b_xd, b_WT.to(x.dtype.element_ty).to(DOT_DTYPE))
        b_yS = tl.dot(b_S.to(x.dtype.element_ty).to(DOT_DTYPE), b_C) * b_w_out[None, :]
        if HAS_SEQ_IDX:
            b_yS = tl.where((b_seg == 0)[None, :], b_yS, 0.0)
        b_y += b_yS
        if EXACT:
            b_y = tl.where(nonfinite_rows(m_xfin, m_ij, 1, DOT_DTYPE), float("nan"), b_y)
        elif CHK_Y:  # y * 0 is 0, or NaN where y is not finite; the sum over the chunk stays in the warp
            b_chk += tl.sum(b_y * 0.0, axis=1)

        # ---- state for the next chunk ----
        b_xw = b_x.to(tl.float32) * b_w_state[None, :]
        b_acc = b_S * b_keep
        b_Bs = b_B
        if HAS_SEQ_IDX:
            m_lastseg = b_seg == b_seg_last
            b_xw = tl.where(m_lastseg[None, :], b_xw, 0.0)
            if EXACT:
                b_Bs = tl.where(m_lastseg[:, None], b_B, 0.0)  # both operands: 0 * NaN
            b_acc = tl.where(b_seg_last == 0, b_acc, 0.0)
        b_xw = b_xw.to(x.dtype.element_ty).to(DOT_DTYPE)
        b_S = tl.dot(b_xw, b_Bs, acc=b_acc)

        # ---- epilogue (fragment): D skip, z gate ----
        if HAS_Z:
            b_z = tl.load(p_z + o_zc, mask=m_pt, other=0.0).to(tl.float32)
        else:
            b_z = 0.0
        if PREV:  # the earlier orders' sum: read, never written here, so the re-walk writes the same
            b_y += tl.load(p_prev + o_oc, mask=m_pt, other=0.0).to(tl.float32)
        if STORE_YSUM:  # the skip, the sum stored, then the gate
            b_y = SCAN_EPILOGUE(b_y, b_x, b_D, b_z, HAS_D, False)
            tl.store(p_ys + o_oc, b_y.to(ysum.dtype.element_ty), mask=m_pt)
            b_y = SCAN_EPILOGUE(b_y, b_x, b_D, b_z, False, HAS_Z)
        else:
            b_y = SCAN_EPILOGUE(b_y, b_x, b_D, b_z, HAS_D, HAS_Z)
        if ACCUMULATE:
            b_y += tl.load(p_o + o_oc, mask=m_pt, other=0.0)
        tl.store(p_o + o_oc, b_y.to(out.dtype.element_ty), mask=m_pt)

        p_x += CHUNK * stride_xl
        p_B += CHUNK * stride_Bl
        p_C += CHUNK * stride_Cl
        p_o += CHUNK * stride_ol
        p_dtp += CHUNK
        p_csp += CHUNK
        if HAS_Z:
            p_z += CHUNK * stride_zl
        if PREV:
            p_prev += CHUNK * stride_ol
        if STORE_YSUM:
            p_ys += CHUNK * stride_ol

    if STORE_FINAL:
        # only the last segment ends at L (padded chunks past L leave S as is).
        # The p-block offset goes into the base pointer so this [P, N] offset
        # tile differs from the split combine's one: CSE would otherwise keep
        # that tile live through the whole walk.
        o_pf = tl.arange(0, BLOCK_P)
        m_f = ((i_p * BLOCK_P + o_pf) < P)[:, None] & m_n[None, :] & (i_k == NSEG - 1)
        p_final = final + (i_bh64 * P + i_p * BLOCK_P) * N
        tl.store(p_final + o_pf[:, None] * N + o_n[None, :], b_S, mask=m_f)
    b_bad = 0
    if not EXACT:
        if not CHK_Y:  # nothing resets the state: every non-finite x, B, dt or start reaches it
            b_chk = tl.sum(b_S * 0.0, axis=1)
        b_bad = (tl.sum(b_chk, axis=0) != 0).to(tl.int32)
        tl.store(flags + (i_bh * NSEG + i_k) * tl.num_programs(0) + i_p, b_bad)
    return b_bad


@triton.jit(noinline=True)
def _rewalk_T(
    x, dtp, csp, B, C, D, z, init, seq_idx, sseg, dseg, out, final, flags,
    L, H, P, N, HEADS_PER_GROUP, LP, SEG_CHUNKS, NSEG, SEG_LOOP, NSEG_LOOP,
    stride_xb, stride_xl, stride_xh, stride_Bb, stride_Bl, stride_Bg, stride_Cb, stride_Cl, stride_Cg,
    stride_zb, stride_zl, stride_zh, stride_ob, stride_ol, stride_oh, stride_ib, stride_ih, stride_ip,
    stride_sb, stride_sl,
    CHUNK: tl.constexpr, BLOCK_P: tl.constexpr, BLOCK_N: tl.constexpr, DOT_DTYPE: tl.constexpr,
    HAS_D: tl.constexpr, D_PER_CHANNEL: tl.constexpr, HAS_Z: tl.constexpr, HAS_INIT: tl.constexpr,
    HAS_SEQ_IDX: tl.constexpr, STORE_FINAL: tl.constexpr, SPLIT: tl.constexpr, SCAN_EPILOGUE: tl.constexpr,
    ORDER: tl.constexpr, ACCUMULATE: tl.constexpr, HI, WI,
):
    """The exact walk as a called function, not inlined: none of the plain
    walk's values stays live for it."""
    _walk_T(
        x, dtp, csp, B, C, D, z, init, seq_idx, sseg, dseg, out, final, flags,
        L, H, P, N, HEADS_PER_GROUP, LP, SEG_CHUNKS, NSEG, SEG_LOOP, NSEG_LOOP,
        stride_xb, stride_xl, stride_xh, stride_Bb, stride_Bl, stride_Bg, stride_Cb, stride_Cl, stride_Cg,
        stride_zb, stride_zl, stride_zh, stride_ob, stride_ol, stride_oh, stride_ib, stride_ih, stride_ip,
        stride_sb, stride_sl, CHUNK, BLOCK_P, BLOCK_N, DOT_DTYPE, HAS_D, D_PER_CHANNEL, HAS_Z, HAS_INIT,
        HAS_SEQ_IDX, STORE_FINAL, SPLIT, SCAN_EPILOGUE, ORDER, ACCUMULATE, HI, WI, True)


@triton.jit(noinline=True)
def _rewalk_chain_T(
    x, dtp, csp, B, C, D, z, init, seq_idx, sseg, dseg, out, final, flags,
    L, H, P, N, HEADS_PER_GROUP, LP, SEG_CHUNKS, NSEG, SEG_LOOP, NSEG_LOOP,
    stride_xb, stride_xl, stride_xh, stride_Bb, stride_Bl, stride_Bg, stride_Cb, stride_Cl, stride_Cg,
    stride_zb, stride_zl, stride_zh, stride_ob, stride_ol, stride_oh, stride_ib, stride_ih, stride_ip,
    stride_sb, stride_sl,
    CHUNK: tl.constexpr, BLOCK_P: tl.constexpr, BLOCK_N: tl.constexpr, DOT_DTYPE: tl.constexpr,
    HAS_D: tl.constexpr, D_PER_CHANNEL: tl.constexpr, HAS_Z: tl.constexpr, HAS_INIT: tl.constexpr,
    HAS_SEQ_IDX: tl.constexpr, STORE_FINAL: tl.constexpr, SPLIT: tl.constexpr, SCAN_EPILOGUE: tl.constexpr,
    ORDER: tl.constexpr, ACCUMULATE: tl.constexpr, HI, WI,
    prev, ysum, PREV: tl.constexpr, STORE_YSUM: tl.constexpr,
):
    """_rewalk_T with the chain merge's arguments (a function of its own, so
    that _rewalk_T's symbol and code in the plain scan stay as they were)."""
    _walk_T(
        x, dtp, csp, B, C, D, z, init, seq_idx, sseg, dseg, out, final, flags,
        L, H, P, N, HEADS_PER_GROUP, LP, SEG_CHUNKS, NSEG, SEG_LOOP, NSEG_LOOP,
        stride_xb, stride_xl, stride_xh, stride_Bb, stride_Bl, stride_Bg, stride_Cb, stride_Cl, stride_Cg,
        stride_zb, stride_zl, stride_zh, stride_ob, stride_ol, stride_oh, stride_ib, stride_ih, stride_ip,
        stride_sb, stride_sl, CHUNK, BLOCK_P, BLOCK_N, DOT_DTYPE, HAS_D, D_PER_CHANNEL, HAS_Z, HAS_INIT,
        HAS_SEQ_IDX, STORE_FINAL, SPLIT, SCAN_EPILOGUE, ORDER, ACCUMULATE, HI, WI, True,
        prev, ysum, PREV, STORE_YSUM)


@fast_launch
@triton.jit
def _ssd_fused_T_kernel(
    x, dtp, csp, B, C, D, z, init, seq_idx, sseg, dseg, out, final, flags,
    L, H, P, N, HEADS_PER_GROUP, LP, SEG_CHUNKS, NSEG, SEG_LOOP, NSEG_LOOP,
    stride_xb, stride_xl, stride_xh,
    stride_Bb, stride_Bl, stride_Bg,
    stride_Cb, stride_Cl, stride_Cg,
    stride_zb, stride_zl, stride_zh,
    stride_ob, stride_ol, stride_oh,
    stride_ib, stride_ih, stride_ip,
    stride_sb, stride_sl,
    CHUNK: tl.constexpr,
    BLOCK_P: tl.constexpr,
    BLOCK_N: tl.constexpr,
    DOT_DTYPE: tl.constexpr,
    HAS_D: tl.constexpr,
    D_PER_CHANNEL: tl.constexpr,
    HAS_Z: tl.constexpr,
    HAS_INIT: tl.constexpr,
    HAS_SEQ_IDX: tl.constexpr,
    STORE_FINAL: tl.constexpr,
    SPLIT: tl.constexpr,
    SCAN_EPILOGUE: tl.constexpr,
    ORDER: tl.constexpr = 0,
    ACCUMULATE: tl.constexpr = False,
    HI=1, WI=1,
    EXACT: tl.constexpr = True,
    RERUN: tl.constexpr = True,
    prev=None, ysum=None,
    PREV: tl.constexpr = False,
    STORE_YSUM: tl.constexpr = False,
    REWALK: tl.constexpr = "call",
    ZERO=0,
    MASK_EXP: tl.constexpr = False,
):
    """The walk, grid (p_blocks, B * H, NSEG): program (i_p, i_bh, i_k) walks
    L-segment i_k (SEG_LOOP chunks from t0); NSEG = 1 is the whole sequence.

    Non-finite inputs: EXACT True is one walk with the selects that keep a
    NaN/Inf where the recurrence puts it (on x, and on B with seq_idx). EXACT
    False walks without them (the cheaper code), writes flags[program] = 1 or
    0, and walks again with them only when flagged (RERUN; False is for tests:
    the plain walk alone). With finite x and B every select is a no-op, so an
    unflagged program wrote exactly what EXACT writes. The flag: without
    seq_idx, a non-finite end state (nothing resets it, so every non-finite x,
    B, dt or start reaches it: x * w_state, 0 * NaN); with seq_idx, any
    non-finite output (an x or B element at row t makes output row t
    non-finite), summed per chunk as y * 0 within the warp.
    MASK_EXP (ssd_fused_dispatch.mask_exponent; plain walk only): the causal
    decay mask on the exponent, G * exp2(where(m, d, -inf)) * dt; a masked term
    is then G * 0 * dt, NaN where G = B C^T is not finite (an Inf or NaN in C, or
    finite B and C whose product passes fp32's range), where the exact walk has
    0. Such a NaN makes its column of x^T W NaN in every row, so the flag is
    then the per-chunk y * 0 sum at every shape (it also sees every x, B, dt and
    start the end state would: each makes some output non-finite).
    PREV, STORE_YSUM: as in the one-launch kernel (cross_scan.py merge 'chain':
    prev is never written, so the re-walk's outputs replace the plain walk's).
    REWALK: how the exact re-walk runs, "call" (the noinline _rewalk_T; ptxas
    then serialises every wgmma of the kernel, C7510) or "inline" (with ZERO,
    a runtime 0 the host passes); see ssd_fused_dispatch.REWALK ("auto" picks
    one of the two per launch). The chain merge (PREV / STORE_YSUM) always calls."""
    b_bad = _walk_T(
        x, dtp, csp, B, C, D, z, init, seq_idx, sseg, dseg, out, final, flags,
        L, H, P, N, HEADS_PER_GROUP, LP, SEG_CHUNKS, NSEG, SEG_LOOP, NSEG_LOOP,
        stride_xb, stride_xl, stride_xh, stride_Bb, stride_Bl, stride_Bg, stride_Cb, stride_Cl, stride_Cg,
        stride_zb, stride_zl, stride_zh, stride_ob, stride_ol, stride_oh, stride_ib, stride_ih, stride_ip,
        stride_sb, stride_sl, CHUNK, BLOCK_P, BLOCK_N, DOT_DTYPE, HAS_D, D_PER_CHANNEL, HAS_Z, HAS_INIT,
        HAS_SEQ_IDX, STORE_FINAL, SPLIT, SCAN_EPILOGUE, ORDER, ACCUMULATE, HI, WI, EXACT,
        prev, ysum, PREV, STORE_YSUM, 0, MASK_EXP)
    if not EXACT and RERUN and (PREV or STORE_YSUM):
        if b_bad != 0:
            _rewalk_chain_T(
                x, dtp, csp, B, C, D, z, init, seq_idx, sseg, dseg, out, final, flags,
                L, H, P, N, HEADS_PER_GROUP, LP, SEG_CHUNKS, NSEG, SEG_LOOP, NSEG_LOOP,
                stride_xb, stride_xl, stride_xh, stride_Bb, stride_Bl, stride_Bg, stride_Cb, stride_Cl, stride_Cg,
                stride_zb, stride_zl, stride_zh, stride_ob, stride_ol, stride_oh, stride_ib, stride_ih, stride_ip,
                stride_sb, stride_sl, CHUNK, BLOCK_P, BLOCK_N, DOT_DTYPE, HAS_D, D_PER_CHANNEL, HAS_Z, HAS_INIT,
                HAS_SEQ_IDX, STORE_FINAL, SPLIT, SCAN_EPILOGUE, ORDER, ACCUMULATE, HI, WI,
                prev, ysum, PREV, STORE_YSUM)
    elif not EXACT and RERUN and REWALK == "inline":
        if b_bad != 0:  # the exact walk inlined (ssd_fused_dispatch.REWALK): no call, so the wgmma stay batched;
            # its program ids and aranges + ZERO (a runtime 0) so that none of its values is the plain walk's
            # (CSE would keep them live through the plain loop, and ptxas spill them there for the exact loop)
            _walk_T(
                x, dtp, csp, B, C, D, z, init, seq_idx, sseg, dseg, out, final, flags,
                L, H, P, N, HEADS_PER_GROUP, LP, SEG_CHUNKS, NSEG, SEG_LOOP, NSEG_LOOP,
                stride_xb, stride_xl, stride_xh, stride_Bb, stride_Bl, stride_Bg, stride_Cb, stride_Cl, stride_Cg,
                stride_zb, stride_zl, stride_zh, stride_ob, stride_ol, stride_oh, stride_ib, stride_ih, stride_ip,
                stride_sb, stride_sl, CHUNK, BLOCK_P, BLOCK_N, DOT_DTYPE, HAS_D, D_PER_CHANNEL, HAS_Z, HAS_INIT,
                HAS_SEQ_IDX, STORE_FINAL, SPLIT, SCAN_EPILOGUE, ORDER, ACCUMULATE, HI, WI, True,
                None, None, False, False, ZERO)
    elif not EXACT and RERUN:
        if b_bad != 0:  # this program saw a non-finite value: walk again, exactly
            _rewalk_T(
                x, dtp, csp, B, C, D, z, init, seq_idx, sseg, dseg, out, final, flags,
                L, H, P, N, HEADS_PER_GROUP, LP, SEG_CHUNKS, NSEG, SEG_LOOP, NSEG_LOOP,
                stride_xb, stride_xl, stride_xh, stride_Bb, stride_Bl, stride_Bg, stride_Cb, stride_Cl, stride_Cg,
                stride_zb, stride_zl, stride_zh, stride_ob, stride_ol, stride_oh, stride_ib, stride_ih, stride_ip,
                stride_sb, stride_sl, CHUNK, BLOCK_P, BLOCK_N, DOT_DTYPE, HAS_D, D_PER_CHANNEL, HAS_Z, HAS_INIT,
                HAS_SEQ_IDX, STORE_FINAL, SPLIT, SCAN_EPILOGUE, ORDER, ACCUMULATE, HI, WI)


@functools.lru_cache(maxsize=256)
def _tuned_row(h, l):
    """The LAUNCH.tuned row for h heads and seqlen l (pnpm gen --tuned), or None."""
    return LAUNCH.tuned_row(h, l)


def ssd_fused_fwd(
    x, dt, A, B, C, chunk_size, D=None, z=None, dt_bias=None, initial_states=None,
    seq_idx=None, dt_softplus=False, dt_limit=(0.0, math.inf), return_final_states=False,
    *, block_p=None, block_q=None, num_warps=None, num_stages=None, dt_chain=None, epilogue=None,
    order=0, height=1, width=1, out=None, accumulate=False, exact_only=False, prev=None, ysum=None,
):
    """Fused SSD forward. Inputs are assumed validated (functional.py).

    x: [b, l, h, p], dt: [b, l, h] (raw: bias/softplus/clamp applied inside),
    A: [h], B, C: [b, l, g, n] with h % g == 0 (head i reads group i // (h // g)),
    D: [h] or [h, p] | None, z: [b, l, h, p] | None, dt_bias: [h] | None,
    initial_states: [b, h, p, n] | None, seq_idx: [b, l] int | None,
    dt_limit: (lo, hi). x, B, C, z, initial_states may be strided views (last
    dim contiguous; copied otherwise).
    chunk_size: caps the walk's tile CHUNK, which is block_q, default
    LAUNCH.fused.block_q (the result does not depend on either).
    block_p, num_warps, num_stages: launch overrides; default from _config
    (LAUNCH.fused, block_p 0 = ssd_fused_dispatch.pick_block_p), or from the LAUNCH.tuned row for (h, l).
    dt_chain, epilogue: fragments to use instead of the chosen ones (host.py).
    order, height, width: scan order over a height x width image (ssd_common.token_index,
    cross_scan.py); tensors stay in natural token order. out: write into this
    [b, l, h, p] view (last dim contiguous); accumulate: out (fp32) += y.
    prev, ysum: [b, l, h, p] with out's strides (cross_scan.py merge 'chain'):
    out = epilogue(prev + y) (prev is only read: the re-walk of a flagged
    program writes the same), and ysum = prev + y + D x, before the gate.
    exact_only: one exact walk instead of the plain walk and its exact re-run
    of the programs that saw a non-finite value (_ssd_fused_T_kernel); the
    results are the same, bit for bit (tests compare the two).

    Small problems run the one-launch kernel; larger ones the T+pre path
    (dt pre-kernel, transposed walk, split-L when programs are too few), see
    ssd_fused_dispatch.PRE_MIN_STEPS.

    Returns (out [b, l, h, p] in x.dtype, final_states fp32 [b, h, p, n] or None).
    """
    b, l, h, p = x.shape
    g, n = B.shape[2], B.shape[3]
    check_scan_order(order, height, width, l, seq_idx)
    if accumulate and (out is None or out.dtype != torch.float32):
        raise ValueError("accumulate=True needs out: an fp32 [b, l, h, p] accumulator")
    for name, t in (("prev", prev), ("ysum", ysum)):
        if t is not None and (out is None or accumulate or t.shape != out.shape or t.stride() != out.stride()):
            raise ValueError(f"{name} needs out (no accumulate) of its shape and strides, got {name} "
                             f"{tuple(t.shape)} {t.stride()}, out {None if out is None else out.stride()}")
    x, B, C, z, initial_states = (
        last_dim_contiguous(t) for t in (x, B, C, z, initial_states)
    )
    A = A.contiguous()
    if D is not None:
        D = D.contiguous()
    if dt_bias is not None:
        dt_bias = dt_bias.contiguous()
    lo, hi = limit_pair(dt_limit)

    row = _tuned_row(h, l) if None in (block_p, block_q, num_warps, num_stages) else None
    if row is not None:  # explicit arguments win over the tuned row
        block_p = block_p or row.block_p
        block_q = block_q or row.block_q
        num_warps = num_warps or row.num_warps
        num_stages = num_stages or row.num_stages
    block_q = block_q or max(16, min(LAUNCH.fused.block_q, next_pow2(chunk_size)))
    use_pre = dispatch.use_pre(b, h, p, l, block_q, x.device)
    if block_p is None:
        # T+pre fills idle SMs by splitting L rather than by halving the p-block
        block_p = LAUNCH.fused.block_p or (max(16, min(64, next_pow2(p))) if use_pre else dispatch.pick_block_p(p, b * h))
    block_n = max(16, next_pow2(n))
    block_q, block_p, num_stages = fit_fused(  # tiles and stages whose shared memory fits the device (smem.py)
        use_pre, block_q, block_p, block_n, num_stages or (LAUNCH.fused.t_num_stages if use_pre else LAUNCH.fused.num_stages),
        x.element_size(), z is not None, x.device)
    dot = dot_dtype(x.dtype)

    if out is None:
        out = torch.empty((b, l, h, p), device=x.device, dtype=x.dtype)
    elif tuple(out.shape) != (b, l, h, p) or out.stride(3) != 1:
        raise ValueError(f"out must be [b, l, h, p] = {(b, l, h, p)} with a contiguous last dim, "
                         f"got {tuple(out.shape)} strides {out.stride()}")
    final = (
        torch.empty((b, h, p, n), device=x.device, dtype=torch.float32)
        if return_final_states else None
    )
    z_arg = z if z is not None else x
    z_strides = (z.stride(0), z.stride(1), z.stride(2)) if z is not None else (0, 0, 0)
    init_strides = (
        (initial_states.stride(0), initial_states.stride(1), initial_states.stride(2))
        if initial_states is not None else (0, 0, 0)
    )
    seq_strides = (seq_idx.stride(0), seq_idx.stride(1)) if seq_idx is not None else (0, 0)
    flags = dict(
        CHUNK=block_q,
        DOT_DTYPE=dot,
        BLOCK_P=block_p,
        BLOCK_N=block_n,
        HAS_D=D is not None,
        D_PER_CHANNEL=D is not None and D.dim() == 2,
        HAS_Z=z is not None,
        HAS_INIT=initial_states is not None,
        HAS_SEQ_IDX=seq_idx is not None,
        STORE_FINAL=final is not None,
        SCAN_EPILOGUE=scan_epilogue_for(D is not None, z is not None, epilogue),
    )
    if order != 0 or accumulate:  # only then: the plain scan's launch stays as it was
        flags.update(ORDER=order, ACCUMULATE=bool(accumulate), HI=height, WI=width)
    if prev is not None or ysum is not None:
        flags.update(prev=prev, ysum=ysum, PREV=prev is not None, STORE_YSUM=ysum is not None)
    chain = dt_chain_for(dt_bias is not None, dt_softplus, dt_chain)
    D_arg = D if D is not None else x
    init_arg = initial_states if initial_states is not None else x
    seq_arg = seq_idx if seq_idx is not None else x
    final_arg = final if final is not None else out

    if not use_pre:
        grid = (cdiv(p, block_p), b * h)
        _ssd_fused_fwd_kernel[grid](
            x, dt, A, B, C, D_arg, z_arg,
            dt_bias if dt_bias is not None else x,
            init_arg, seq_arg, out, final_arg,
            l, h, p, n, h // g, loop_count(cdiv(l, block_q)),
            x.stride(0), x.stride(1), x.stride(2),
            dt.stride(0), dt.stride(1), dt.stride(2),
            B.stride(0), B.stride(1), B.stride(2),
            C.stride(0), C.stride(1), C.stride(2),
            *z_strides,
            out.stride(0), out.stride(1), out.stride(2),
            *init_strides,
            *seq_strides,
            lo, hi,
            HAS_DT_BIAS=dt_bias is not None,
            DT_SOFTPLUS=bool(dt_softplus),
            DT_CHAIN=chain,
            **flags,
            num_warps=num_warps or LAUNCH.fused.num_warps,
            num_stages=num_stages or LAUNCH.fused.num_stages,
        )
        return out, final

    # ---- T+pre ----
    num_warps = num_warps or LAUNCH.fused.t_num_warps
    launch = dict(num_warps=num_warps, num_stages=num_stages or LAUNCH.fused.t_num_stages)
    if x.is_cuda and not _INTERPRETED and num_warps == dispatch.T_WARPS and block_q <= 32 and block_p <= 64:
        # only where it was measured: at CHUNK 64 the walk needs ~255 registers
        # and a 168 cap would spill heavily; the interpreter has no such option
        launch["maxnreg"] = dispatch.T_MAXNREG
    n_p = cdiv(p, block_p)
    n_chunks = cdiv(l, block_q)
    nseg = LAUNCH.fused.split or dispatch.pick_split(b * h * n_p, n_chunks, x.device)
    seg_chunks = cdiv(n_chunks, nseg)
    nseg = cdiv(n_chunks, seg_chunks)  # no empty trailing segment
    lp = nseg * seg_chunks * block_q  # padded row length: every segment walks seg_chunks

    # one allocation for both scratch rows (an extra torch.empty is host time
    # the small-problem cut-off has to pay for)
    # (and the walk's per-program flags, int32, at the end)
    rows = b * h * lp
    scratch = torch.empty(2 * rows + n_p * b * h * nseg, device=x.device, dtype=torch.float32)
    dtp, csp = scratch[:rows].view(b * h, lp), scratch[rows:2 * rows].view(b * h, lp)
    pflags = scratch[2 * rows:].view(torch.int32)
    block_h = min(64, next_pow2(h))
    _ssd_dt_cumsum_kernel[(lp // block_q, b, cdiv(h, block_h))](
        dt, A, dt_bias if dt_bias is not None else A, dtp, csp,
        l, h, lp,
        dt.stride(0), dt.stride(1), dt.stride(2),
        lo, hi,
        CHUNK=block_q,
        BLOCK_H=block_h,
        HAS_DT_BIAS=dt_bias is not None,
        DT_SOFTPLUS=bool(dt_softplus),
        DT_CHAIN=chain,
        HAS_SEQ_IDX=seq_idx is not None,
        seq_idx=seq_arg, stride_sb=seq_strides[0], stride_sl=seq_strides[1],
        **({} if order == 0 else dict(ORDER=order, HI=height, WI=width)),
        num_warps=4,
    )
    sseg = dseg = dtp  # placeholders, never read unless SPLIT
    if nseg > 1:
        sseg = torch.empty((b * h, nseg, p, n), device=x.device, dtype=torch.float32)
        dseg = torch.empty((b * h, nseg), device=x.device, dtype=torch.float32)
        _ssd_state_T_kernel[(n_p, b * h, nseg - 1)](
            x, B, dtp, csp, seq_arg, sseg, dseg,
            l, h, p, n, h // g, lp, seg_chunks, nseg, loop_count(seg_chunks),
            x.stride(0), x.stride(1), x.stride(2),
            B.stride(0), B.stride(1), B.stride(2),
            *seq_strides,
            CHUNK=block_q,
            BLOCK_P=block_p,
            BLOCK_N=block_n,
            DOT_DTYPE=dot,
            HAS_SEQ_IDX=seq_idx is not None,
            **({} if order == 0 else dict(ORDER=order, HI=height, WI=width)),
            **launch,
        )
    walk_args = (
        x, dtp, csp, B, C, D_arg, z_arg, init_arg, seq_arg, sseg, dseg, out, final_arg, pflags,
        l, h, p, n, h // g, lp, seg_chunks, nseg, loop_count(seg_chunks), loop_count(nseg),
        x.stride(0), x.stride(1), x.stride(2),
        B.stride(0), B.stride(1), B.stride(2),
        C.stride(0), C.stride(1), C.stride(2),
        *z_strides,
        out.stride(0), out.stride(1), out.stride(2),
        *init_strides,
        *seq_strides,
    )
    # the plain walk, and the exact one where it flags a program; out += y
    # cannot run twice, so accumulate walks exactly once
    exact = bool(accumulate or exact_only)
    # the re-walk's form matters only where a plain walk may re-walk: an exact walk has none, and the
    # chain merge (prev / ysum) always calls; elsewhere the default keeps the launch's one specialization
    rewalks = not exact and prev is None and ysum is None
    form = dispatch.rewalk_form(n_p * b * h * nseg, x.device) if rewalks else "call"
    extra = {} if form == "call" else dict(REWALK=form, ZERO=0)
    if rewalks and dispatch.mask_exponent(form):  # (only then: other launches keep their specialization)
        extra["MASK_EXP"] = True
    _ssd_fused_T_kernel[(n_p, b * h, nseg)](*walk_args, SPLIT=nseg > 1, EXACT=exact, **flags, **launch, **extra)
    return out, final
