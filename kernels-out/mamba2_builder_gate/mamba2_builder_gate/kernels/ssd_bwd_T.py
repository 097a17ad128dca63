# generated from examples/mamba2-builder-gate.ts by @mamba2/codegen 0.1.0 -- do not edit
# ir-hash: 199ee129cb1192e6e2631245c55af3764dd8e1c0b74922375a8d5a6f5ae3dc58
# copied from packages/kernels/python/mamba2_kernels/kernels/ssd_bwd_T.py
"""Backward of the SSD scan, v5s: v4 (ssd_bwd.py: the dt pre-kernel, both
walks, the wrapper) with the chunk kernel in transposed form, selectable with
ssd_bwd(impl="v5s"): two launches, DO_X with one head per program, then DO_BC
with the head loop. NOTES.md "Backward versions". (v5, the same kernel in one
launch, DO_X and DO_BC together, was removed on 2026-12-01: on the H200 it read
out of bounds or gave wrong dB/dC, and its sm_90 build spilled more than v5s's.)

Non-finite inputs (NOTES.md "Non-finite inputs"): every gradient is
non-finite exactly where autograd through the float64 reference has it, as
v4's: the seq_idx and Inf-dt selects are v4's; for x the kernel selects less
than v4 (x reaches the dM and dB dots as loaded; the comment in the kernel says
where and why), with the ssd_common helpers x_finite / nonfinite_rows.
"""
from __future__ import annotations

import triton
import triton.language as tl

from .fastlaunch import fast_launch
from .ssd_bwd import _chunk_decays, _decay_grad, _dS_keep, _dt_chunk, _op, _skip_program, _ssd_bwd_v4
from .ssd_common import nonfinite_rows, segment_ids, x_finite


@fast_launch
@triton.jit
def _ssd_bwd_chunk_T_kernel(
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
    FLAG_HEADS: tl.constexpr = 1,
    RESETS: tl.constexpr = True,
    SKIP: tl.constexpr = False,
    BLOCK_HS: tl.constexpr = 1,
):
    """v5s: the chunk kernel of v4 in transposed form, so that every [Q, *]
    product has P or N (64, 128) as its M side instead of Q (32): with Q 32
    those dots cannot use wgmma (M >= 64 per warpgroup) and mma.sync keeps
    both operands in registers. Tiles: x^T, dout^T, z^T, dx^T [P, Q]; B^T, C^T,
    dB^T, dC^T [N, Q]; S, dS [P, N];
        y^T = (S C^T) w_out + x^T M^T + D x^T,     dx^T = dy^T M + (dS B^T) w_state + D dy^T,
        dC^T = (S^T dy^T) w_out + B^T dCB^T,       dB^T = (dS^T x^T) w_state + C^T dCB,
    dM = dy x^T and the dt/A terms as in v4. DO_X / DO_BC as in v4's kernel
    (_ssd_bwd_chunk_v4_kernel, whose comments say why each seq_idx / dt
    select is there); non-finite x: the comment before the head loop.
    Launched with DO_X or DO_BC, never both (_ssd_bwd_v5s)."""
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
    m_t = o_t < L
    m_n = o_n < N
    m_nt = m_n[:, None] & m_t[None, :]
    m_last = o_q == CHUNK - 1

    b_BT = tl.load(B + i_b64 * stride_Bb + i_g64 * stride_Bg + t0 * stride_Bl
                   + o_n[:, None] + o_q[None, :] * stride_Bl, mask=m_nt, other=0.0)
    b_CT = tl.load(C + i_b64 * stride_Cb + i_g64 * stride_Cg + t0 * stride_Cl
                   + o_n[:, None] + o_q[None, :] * stride_Cl, mask=m_nt, other=0.0)
    if SKIP:
        if not RESETS:
            if _skip_program(csp, ROW, i_bh0, LP, t0, CHUNK, FLAG_HEADS, BLOCK_HS, RESETS):
                return
    b_BT = _op(b_BT, ELT, DOT_DTYPE)
    b_CT = _op(b_CT, ELT, DOT_DTYPE)
    if DO_X:
        b_CB = tl.dot(tl.trans(b_CT), b_BT, input_precision=DOT_PRECISION)  # [Q_i, Q_j] = C_i . B_j
    m_ij = o_q[:, None] >= o_q[None, :]
    m_ji = o_q[None, :] >= o_q[:, None]  # [j, i]: the mask nonfinite_rows takes for x^T (built, not transposed)
    b_seg = 0
    b_seg_last = 0
    if HAS_SEQ_IDX:
        b_seg, b_seg_last = segment_ids(seq_idx + i_b64 * stride_sb, stride_sl, o_t, m_t)
        m_seg = b_seg[:, None] == b_seg[None, :]  # symmetric: serves both masks
        m_ij = m_ij & m_seg
        m_ji = m_ji & m_seg
    m_before = m_ij
    if RESETS:
        m_before = m_ij & (o_q[:, None] > o_q[None, :])

    if DO_BC:
        b_acc_dBT = tl.zeros([BLOCK_N, CHUNK], dtype=tl.float32)
        b_acc_dCT = tl.zeros([BLOCK_N, CHUNK], dtype=tl.float32)
    # Non-finite x (NaN, Inf) end where autograd through the float64 reference
    # has them, with fewer [P, Q] selects than v4 (x goes from its load to
    # the dM and dB dots as it is; a select before a dot cost the forward 19-33%):
    # - dB, dC need nothing: x_j enters dB^T = (dS^T x^T) w_state at column j
    #   only, and dCB = where(m_ij, dM E dt) is non-finite at (i, j) with a
    #   bad x_j and i >= j in j's sequence, so dC at exactly the rows it reaches;
    # - the DO_X half zeroes the columns j of dM and dw that a bad x_j makes
    #   non-finite (one [Q, Q] and one [Q] select per head, after the p-blocks:
    #   in exact arithmetic they cancel in every decay gradient they do not
    #   make NaN), then sets ddt NaN at the rows a bad x reaches and dA where a
    #   later row of its sequence is in the chunk, as v4;
    # - y (for dz) is the one dot that needs x as 0 where non-finite (it would
    #   meet the masked zeros of M: 0 * NaN); nonfinite_rows (the dot form)
    #   puts NaN back where the recurrence has it.
    for i_j in range(0, N_HEADS_LOOP):
        i_h = i_g * HEADS_PER_GROUP + i_s * HEADS_PER_SPLIT + i_j
        i_h64 = i_h.to(tl.int64)
        i_bh64 = i_b64 * H + i_h64
        b_A = tl.load(A + i_h).to(tl.float32)
        b_dt_bias = 0.0
        if HAS_DT_BIAS:
            b_dt_bias = tl.load(dt_bias + i_h).to(tl.float32)
        b_dt, b_ddt_draw = _dt_chunk(dt + i_b64 * stride_dtb + i_h64 * stride_dth + t0 * stride_dtl, o_q, m_t,
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
        if DO_X:
            b_xbad = tl.zeros([CHUNK], dtype=tl.int32)  # rows j with a non-finite x[j, p]
        o_state = i_bh64 * NC * P * N + i_c.to(tl.int64) * P * N
        for i_p in range(0, N_PB_LOOP):
            o_p = i_p * BLOCK_P + tl.arange(0, BLOCK_P)
            m_p = o_p < P
            m_pt = m_p[:, None] & m_t[None, :]
            m_pn = m_p[:, None] & m_n[None, :]
            b_xT = tl.load(x + i_b64 * stride_xb + i_h64 * stride_xh + t0 * stride_xl
                           + o_p[:, None] + o_q[None, :] * stride_xl, mask=m_pt, other=0.0).to(tl.float32)
            b_doT = tl.load(dout + i_b64 * stride_ob + i_h64 * stride_oh + t0 * stride_ol
                            + o_p[:, None] + o_q[None, :] * stride_ol, mask=m_pt, other=0.0).to(tl.float32)
            b_S = tl.load(states + o_state + o_p[:, None] * N + o_n[None, :], mask=m_pn, other=0.0)
            b_dS = tl.load(dstates + o_state + o_p[:, None] * N + o_n[None, :], mask=m_pn, other=0.0)
            if DO_X:
                m_xfin = x_finite(b_xT)
                b_xbad = tl.maximum(b_xbad, tl.max((~m_xfin).to(tl.int32), axis=0))
            b_Sd = _op(b_S, ELT, DOT_DTYPE)
            b_dSd = _op(b_dS, ELT, DOT_DTYPE)
            b_xTd = _op(b_xT, ELT, DOT_DTYPE)
            if HAS_D:
                if D_PER_CHANNEL:
                    b_D = tl.load(D + i_h * P + o_p, mask=m_p, other=0.0).to(tl.float32)[:, None]
                else:
                    b_D = tl.load(D + i_h).to(tl.float32)
            if DO_X:
                b_yoffT = tl.dot(b_Sd, b_CT, input_precision=DOT_PRECISION)  # [P, Q]: S_in[p] . C_i
                if HAS_SEQ_IDX:  # only rows of the chunk's first sequence see S_in
                    b_yoffT = tl.where((b_seg == 0)[None, :], b_yoffT, 0.0)
            if HAS_Z:
                b_zT = tl.load(z + i_b64 * stride_zb + i_h64 * stride_zh + t0 * stride_zl
                               + o_p[:, None] + o_q[None, :] * stride_zl, mask=m_pt, other=0.0).to(tl.float32)
                b_sig = tl.sigmoid(b_zT)
                if DO_X:
                    b_xTcd = _op(tl.where(m_xfin, b_xT, 0.0), ELT, DOT_DTYPE)  # x as 0 where non-finite
                    b_yT = b_yoffT * b_w_out[None, :] + tl.dot(b_xTcd, tl.trans(b_Md), input_precision=DOT_PRECISION)
                    b_yT = tl.where(nonfinite_rows(m_xfin, m_ji, 1, DOT_DTYPE), float("nan"), b_yT)
                    if HAS_D:
                        b_yT += b_xT * b_D
                    b_dzT = b_doT * b_yT * b_sig * (1.0 + b_zT * (1.0 - b_sig))
                    tl.store(dz + ((i_b64 * L + t0) * H + i_h64) * P + o_p[:, None] + o_q[None, :] * (H * P),
                             b_dzT.to(dz.dtype.element_ty), mask=m_pt)
                b_dyT = b_doT * b_zT * b_sig
            else:
                b_dyT = b_doT
            b_dyTd = _op(b_dyT, ELT, DOT_DTYPE)
            b_dM += tl.dot(tl.trans(b_dyTd), b_xTd, input_precision=DOT_PRECISION)  # [Q_i, Q_j] = dy_i . x_j
            if DO_BC:
                b_dCST = tl.dot(tl.trans(b_Sd), b_dyTd, input_precision=DOT_PRECISION) * b_w_out[None, :]
                if HAS_SEQ_IDX:
                    b_dCST = tl.where((b_seg == 0)[None, :], b_dCST, 0.0)
                b_acc_dCT += b_dCST
                b_acc_dBT += tl.dot(tl.trans(b_dSd), b_xTd, input_precision=DOT_PRECISION) * b_w_state[None, :]
            if DO_X:
                b_UT = tl.dot(b_dSd, b_BT, input_precision=DOT_PRECISION)  # [P, Q]: dS[p] . B_j
                b_dxT = tl.dot(b_dyTd, b_Md, input_precision=DOT_PRECISION) + b_UT * b_w_state[None, :]
                if HAS_D:
                    b_dxT += b_dyT * b_D
                    tl.store(dD_part + ((i_b64 * NC + i_c) * H + i_h64) * P + o_p, tl.sum(b_dyT * b_xT, axis=1),
                             mask=m_p)
                tl.store(dx + ((i_b64 * L + t0) * H + i_h64) * P + o_p[:, None] + o_q[None, :] * (H * P),
                         b_dxT.to(dx.dtype.element_ty), mask=m_pt)
                b_dw += tl.sum(b_xT * b_UT, axis=0)  # d loss / d w_state_j
                b_dyoff += tl.sum(b_dyT * b_yoffT, axis=0)
                b_dSS += tl.sum(b_dS.to(tl.float32) * b_S.to(tl.float32), axis=1)

        if DO_BC:  # from dM as the dots gave it (before DO_X zeroes its bad columns)
            b_dCB = _op(tl.where(m_ijr, b_dM * b_E * b_dt[None, :], 0.0), ELT, DOT_DTYPE)
            b_acc_dCT += tl.dot(b_BT, tl.trans(b_dCB), input_precision=DOT_PRECISION)
            b_acc_dBT += tl.dot(b_CT, b_dCB, input_precision=DOT_PRECISION)
        if DO_X:
            b_dM = tl.where(b_xbad[None, :] > 0, 0.0, b_dM)
            b_dw = tl.where(b_xbad > 0, 0.0, b_dw)
            # rows this head's non-finite x reach (j <= i in i's sequence), and
            # those with one strictly before (their decay gradient, so dA, is NaN)
            m_bad_j = m_ij & (b_xbad[None, :] > 0)
            b_reach = tl.max(m_bad_j.to(tl.int32), axis=1)
            b_G = b_dM * b_M
            b_dS_keep, b_sdss = _dS_keep(b_keep, b_dSS, b_seg_last, b_segr_last, HAS_SEQ_IDX, RESETS)
            b_dcs = b_w_out * b_dyoff + tl.sum(b_G, axis=1) - tl.sum(b_G, axis=0) - b_dw * b_w_state
            b_dlast = b_dS_keep + tl.sum(b_dw * b_w_state, axis=0)
            b_dcs += tl.where(m_last, b_dlast, 0.0)
            b_rc = _decay_grad(b_dcs, b_segr, b_rst, b_seg, m_before, b_sdss, HAS_SEQ_IDX, RESETS)
            b_ddt = tl.sum(b_dM * b_CBE, axis=0) + b_dw * b_e_state + b_rc * b_A
            b_ddt = tl.where(b_reach > 0, float("nan"), b_ddt)
            b_ddt = tl.where(b_ddt_draw == 0.0, 0.0, b_ddt * b_ddt_draw)  # as torch.clamp's backward
            tl.store(ddt + (i_b64 * L + t0) * H + i_h64 + o_q * H, b_ddt, mask=m_t)
            b_dA = tl.sum(b_dt * b_rc, axis=0)
            m_strict = m_bad_j & (o_q[:, None] != o_q[None, :]) & m_t[:, None]
            b_dA = tl.where(tl.max(tl.max(m_strict.to(tl.int32), axis=1), axis=0) > 0, float("nan"), b_dA)
            tl.store(dA_part + i_bh64 * NC + i_c, b_dA)

    if DO_BC:
        o_part = (((i_s * BATCH + i_b64) * L + t0) * G + i_g64) * N + o_n[:, None] + o_q[None, :] * (G * N)
        tl.store(dB_part + o_part, b_acc_dBT, mask=m_nt)
        tl.store(dC_part + o_part, b_acc_dCT, mask=m_nt)


# v5s launch settings (those of bwd_bench.py's variant v5s-q32w8): the DO_X
# launch (one head per program) and the DO_BC launch (the head loop).
V5_X_WARPS = 8
V5_BC_WARPS = 8
V5_X_MAXNREG = None
V5_BC_MAXNREG = None


def _ssd_bwd_v5s(*args, x_warps=None, bc_warps=None, **kw):
    """v4 with the transposed chunk kernel split in two launches: DO_X with one head per
    program (no dB/dC accumulators), then DO_BC with the head loop; each alone
    needs fewer registers. x_warps / bc_warps: their num_warps."""
    passes = ((True, False, x_warps or V5_X_WARPS, V5_X_MAXNREG),
              (False, True, bc_warps or V5_BC_WARPS, V5_BC_MAXNREG))
    return _ssd_bwd_v4(*args, chunk_kernel=_ssd_bwd_chunk_T_kernel, chunk_passes=passes, **kw)
