# generated from examples/vision-mamba2.ts by @mamba2/codegen 0.1.0 -- do not edit
# ir-hash: 973d21e2cf8d81c0e01a13580d2634dea1d19fba039c3bddcd8ee47c7c19c7c4
# copied from packages/kernels/python/mamba2_kernels/kernels/ssd_bwd_v3.py
"""Backward of the SSD scan, v3: the first correct version (selectable with
ssd_bwd(impl="v3") or MAMBA2_SSD_BWD=v3; v4 in ssd_bwd.py is the default).
The three launches:

1. `_ssd_bwd_states_kernel` walks the chunks forward, one program per
   (batch, head, p-block), and stores the state entering every chunk,
   S_in [b, h, nchunks, p, n] fp32 (the forward does not keep it).
2. `_ssd_bwd_dstates_kernel` walks the chunks in REVERSE with the adjoint
   state dS [BLOCK_P, N] in fp32 registers and stores, for every chunk, the
   gradient reaching the state that leaves it (dS_out). With, per chunk,
   cs = cumsum(dt * A), w_out_i = exp(cs_i), w_state_j = dt_j exp(cs_last - cs_j)
   and keep = exp(cs_last) (masked by seq_idx segments exactly as in the
   forward):  dS_in = keep * dS_out + dy^T (w_out * C),  dy = dout * silu(z).
3. `_ssd_bwd_chunk_kernel` runs every (chunk, p-block, batch, head) in
   parallel from S_in and dS_out, with M = (C B^T) * exp(cs_i - cs_j) * dt_j
   [i >= j, same segment]:
       y  = w_out * (C S_in^T) + M x + D x        (recomputed for dz)
       dx = M^T dy + w_state * (B dS^T) + D dy
       dC = (dM * E * dt_j) B + w_out * (dy S_in),      dM = dy x^T
       dB = (dM * E * dt_j)^T C + w_state * (x dS)
   and the decays' gradients go through a reverse cumsum of dcs into dt and
   A. dt's gradient is taken back through the clamp (zero where clamped),
   softplus and dt_bias.

Sums over p (dB, dC, ddt, dA), over chunks (dA, dD) and over heads of a group
are written as partials and reduced with torch.sum: no atomics, so two
backward runs give bit-identical gradients.
"""
from __future__ import annotations

import math

import torch
import triton
import triton.language as tl

from .host import INTERPRETED as _INTERPRETED, cdiv, dot_dtype as _dot_dtype, next_pow2
from .host import last_dim_contiguous as _last_dim_contiguous, loop_count as _loop_count
from .ssd_bwd import BWD_BLOCK_Q, BWD_WARPS, _dt_chunk
from .ssd_common import LOG2E, segment_ids
from .._config import LAUNCH


@triton.jit
def _ssd_bwd_states_kernel(
    x, dt, A, B, dt_bias, init, seq_idx, states,
    L, H, P, N, HEADS_PER_GROUP, N_CHUNKS, NC,
    stride_xb, stride_xl, stride_xh,
    stride_dtb, stride_dtl, stride_dth,
    stride_Bb, stride_Bl, stride_Bg,
    stride_ib, stride_ih, stride_ip,
    stride_sb, stride_sl,
    dt_lo, dt_hi,
    CHUNK: tl.constexpr,
    BLOCK_P: tl.constexpr,
    BLOCK_N: tl.constexpr,
    DOT_PRECISION: tl.constexpr,
    HAS_DT_BIAS: tl.constexpr,
    DT_SOFTPLUS: tl.constexpr,
    HAS_INIT: tl.constexpr,
    HAS_SEQ_IDX: tl.constexpr,
):
    # N_CHUNKS is only a loop bound (a NumPy scalar when interpreted); NC is
    # the same count for arithmetic.
    i_p = tl.program_id(0)
    i_bh = tl.program_id(1)
    i_b = (i_bh // H).to(tl.int64)
    i_h = (i_bh % H).to(tl.int64)
    i_g = i_h // HEADS_PER_GROUP

    o_q = tl.arange(0, CHUNK)
    o_p = i_p * BLOCK_P + tl.arange(0, BLOCK_P)
    o_n = tl.arange(0, BLOCK_N)
    m_p = o_p < P
    m_n = o_n < N
    m_pn = m_p[:, None] & m_n[None, :]
    m_last = o_q == CHUNK - 1

    b_a = tl.load(A + i_h).to(tl.float32) * LOG2E
    b_dt_bias = 0.0
    if HAS_DT_BIAS:
        b_dt_bias = tl.load(dt_bias + i_h).to(tl.float32)
    if HAS_INIT:
        p_init = init + i_b * stride_ib + i_h * stride_ih
        b_S = tl.load(p_init + o_p[:, None] * stride_ip + o_n[None, :], mask=m_pn, other=0.0).to(tl.float32)
    else:
        b_S = tl.zeros([BLOCK_P, BLOCK_N], dtype=tl.float32)
    p_states = states + (i_b * H + i_h) * NC * P * N + o_p[:, None] * N + o_n[None, :]

    for i_c in range(0, N_CHUNKS):
        t0 = i_b * 0 + i_c * CHUNK  # int64 (i_c may be a plain int when interpreted)
        o_t = t0 + o_q
        m_t = o_t < L
        tl.store(p_states + (i_b * 0 + i_c) * P * N, b_S, mask=m_pn)

        p_dt = dt + i_b * stride_dtb + i_h * stride_dth + t0 * stride_dtl
        b_dt, b_ddt_draw = _dt_chunk(p_dt, o_q, m_t, stride_dtl, b_dt_bias, dt_lo, dt_hi,
                                     HAS_DT_BIAS, DT_SOFTPLUS)
        b_cs = tl.cumsum(b_dt * b_a, axis=0)
        b_cs_last = tl.sum(tl.where(m_last, b_cs, 0.0), axis=0)
        b_w_state = b_dt * tl.exp2(b_cs_last - b_cs)
        b_keep = tl.exp2(b_cs_last)
        if HAS_SEQ_IDX:
            b_seg, b_seg_last = segment_ids(seq_idx + i_b * stride_sb, stride_sl, o_t, m_t)
            b_w_state = tl.where(b_seg == b_seg_last, b_w_state, 0.0)
            b_keep = tl.where(b_seg_last == 0, b_keep, 0.0)

        p_x = x + i_b * stride_xb + i_h * stride_xh + t0 * stride_xl
        p_B = B + i_b * stride_Bb + i_g * stride_Bg + t0 * stride_Bl
        b_x = tl.load(p_x + o_q[:, None] * stride_xl + o_p[None, :],
                      mask=m_t[:, None] & m_p[None, :], other=0.0).to(tl.float32)
        b_B = tl.load(p_B + o_q[:, None] * stride_Bl + o_n[None, :],
                      mask=m_t[:, None] & m_n[None, :], other=0.0).to(tl.float32)
        b_xw = b_x * b_w_state[:, None]
        b_S = tl.dot(tl.trans(b_xw), b_B, acc=b_S * b_keep, input_precision=DOT_PRECISION)


@triton.jit
def _chunk_decays(p_dt, p_s, o_q, t0, L, stride_dtl, stride_sl, b_a, b_dt_bias, dt_lo, dt_hi,
                  CHUNK: tl.constexpr, HAS_DT_BIAS: tl.constexpr, DT_SOFTPLUS: tl.constexpr,
                  HAS_SEQ_IDX: tl.constexpr):
    """Per chunk (as in the forward): dt, d dt / d dt_raw, cs (log2 units),
    w_out = exp(cs_i), e_state = exp(cs_last - cs_j), keep = exp(cs_last),
    and the intra-chunk mask (causal, same segment)."""
    o_t = t0 + o_q
    m_t = o_t < L
    b_dt, b_ddt_draw = _dt_chunk(p_dt, o_q, m_t, stride_dtl, b_dt_bias, dt_lo, dt_hi,
                                 HAS_DT_BIAS, DT_SOFTPLUS)
    b_cs = tl.cumsum(b_dt * b_a, axis=0)
    b_cs_last = tl.sum(tl.where(o_q == CHUNK - 1, b_cs, 0.0), axis=0)
    m_ij = o_q[:, None] >= o_q[None, :]
    b_w_out = tl.exp2(b_cs)
    b_e_state = tl.exp2(b_cs_last - b_cs)
    b_keep = tl.exp2(b_cs_last)
    if HAS_SEQ_IDX:
        b_seg, b_seg_last = segment_ids(p_s, stride_sl, o_t, m_t)
        m_ij = m_ij & (b_seg[:, None] == b_seg[None, :])
        b_w_out = tl.where(b_seg == 0, b_w_out, 0.0)
        b_e_state = tl.where(b_seg == b_seg_last, b_e_state, 0.0)
        b_keep = tl.where(b_seg_last == 0, b_keep, 0.0)
    return b_dt, b_ddt_draw, b_cs, m_ij, b_w_out, b_e_state, b_keep


@triton.jit
def _ssd_bwd_dstates_kernel(
    dt, A, C, z, dt_bias, seq_idx, dout, dfinal, dstates, dinit,
    L, H, P, N, HEADS_PER_GROUP, N_CHUNKS, NC,
    stride_dtb, stride_dtl, stride_dth,
    stride_Cb, stride_Cl, stride_Cg,
    stride_zb, stride_zl, stride_zh,
    stride_ob, stride_ol, stride_oh,
    stride_sb, stride_sl,
    dt_lo, dt_hi,
    CHUNK: tl.constexpr,
    BLOCK_P: tl.constexpr,
    BLOCK_N: tl.constexpr,
    DOT_PRECISION: tl.constexpr,
    HAS_Z: tl.constexpr,
    HAS_DT_BIAS: tl.constexpr,
    DT_SOFTPLUS: tl.constexpr,
    HAS_SEQ_IDX: tl.constexpr,
    HAS_DFINAL: tl.constexpr,
    STORE_DINIT: tl.constexpr,
):
    """Reverse walk of the adjoint state: stores dS_out(c), the gradient
    reaching the state that leaves chunk c, for every chunk; then
    dS_in(c) = keep * dS_out(c) + dy^T (w_out * C) = dS_out(c - 1)."""
    # N_CHUNKS is only a loop bound (a NumPy scalar when interpreted); NC is
    # the same count for arithmetic.
    i_p = tl.program_id(0)
    i_bh = tl.program_id(1)
    i_b = (i_bh // H).to(tl.int64)
    i_h = (i_bh % H).to(tl.int64)
    i_g = i_h // HEADS_PER_GROUP

    o_q = tl.arange(0, CHUNK)
    o_p = i_p * BLOCK_P + tl.arange(0, BLOCK_P)
    o_n = tl.arange(0, BLOCK_N)
    m_p = o_p < P
    m_n = o_n < N
    m_pn = m_p[:, None] & m_n[None, :]

    b_a = tl.load(A + i_h).to(tl.float32) * LOG2E
    b_dt_bias = 0.0
    if HAS_DT_BIAS:
        b_dt_bias = tl.load(dt_bias + i_h).to(tl.float32)
    if HAS_DFINAL:
        b_dS = tl.load(dfinal + (i_b * H + i_h) * P * N + o_p[:, None] * N + o_n[None, :],
                       mask=m_pn, other=0.0).to(tl.float32)
    else:
        b_dS = tl.zeros([BLOCK_P, BLOCK_N], dtype=tl.float32)
    p_dstates = dstates + (i_b * H + i_h) * NC * P * N + o_p[:, None] * N + o_n[None, :]

    for i_r in range(0, N_CHUNKS):
        i_c = NC - 1 - i_r
        t0 = i_b * 0 + i_c * CHUNK  # int64 (i_c may be a plain int when interpreted)
        tl.store(p_dstates + (i_b * 0 + i_c) * P * N, b_dS, mask=m_pn)
        o_t = t0 + o_q
        m_t = o_t < L
        m_tp = m_t[:, None] & m_p[None, :]
        b_dt, b_ddt_draw, b_cs, m_ij, b_w_out, b_e_state, b_keep = _chunk_decays(
            dt + i_b * stride_dtb + i_h * stride_dth + t0 * stride_dtl, seq_idx + i_b * stride_sb,
            o_q, t0, L, stride_dtl, stride_sl, b_a, b_dt_bias, dt_lo, dt_hi,
            CHUNK, HAS_DT_BIAS, DT_SOFTPLUS, HAS_SEQ_IDX)
        b_C = tl.load(C + i_b * stride_Cb + i_g * stride_Cg + t0 * stride_Cl
                      + o_q[:, None] * stride_Cl + o_n[None, :],
                      mask=m_t[:, None] & m_n[None, :], other=0.0).to(tl.float32)
        b_dy = tl.load(dout + i_b * stride_ob + i_h * stride_oh + t0 * stride_ol
                       + o_q[:, None] * stride_ol + o_p[None, :], mask=m_tp, other=0.0).to(tl.float32)
        if HAS_Z:
            b_z = tl.load(z + i_b * stride_zb + i_h * stride_zh + t0 * stride_zl
                          + o_q[:, None] * stride_zl + o_p[None, :], mask=m_tp, other=0.0).to(tl.float32)
            b_dy = b_dy * b_z * tl.sigmoid(b_z)
        b_dS = tl.dot(tl.trans(b_dy), b_C * b_w_out[:, None], acc=b_dS * b_keep, input_precision=DOT_PRECISION)

    if STORE_DINIT:
        tl.store(dinit + (i_b * H + i_h) * P * N + o_p[:, None] * N + o_n[None, :], b_dS, mask=m_pn)


@triton.jit
def _ssd_bwd_chunk_kernel(
    x, dt, A, B, C, D, z, dt_bias, seq_idx, states, dstates, dout,
    dx, dz, dB_part, dC_part, ddt_part, dA_part, dD_part,
    BATCH, L, H, P, N, HEADS_PER_GROUP, NC, N_PBLOCKS,
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
    DOT_PRECISION: tl.constexpr,
    HAS_D: tl.constexpr,
    D_PER_CHANNEL: tl.constexpr,
    HAS_Z: tl.constexpr,
    HAS_DT_BIAS: tl.constexpr,
    DT_SOFTPLUS: tl.constexpr,
    HAS_SEQ_IDX: tl.constexpr,
):
    """All gradients of one (chunk, p-block, batch, head), given the state
    entering the chunk (S_in) and the adjoint of the state leaving it (dS)."""
    i_cp = tl.program_id(0)
    i_bh = tl.program_id(1)
    i_c = i_cp // N_PBLOCKS
    i_p = i_cp % N_PBLOCKS
    i_b = (i_bh // H).to(tl.int64)
    i_h = (i_bh % H).to(tl.int64)
    i_g = i_h // HEADS_PER_GROUP
    i_p64 = i_p.to(tl.int64)
    i_c64 = i_c.to(tl.int64)
    t0 = i_c64 * CHUNK

    o_q = tl.arange(0, CHUNK)
    o_p = i_p * BLOCK_P + tl.arange(0, BLOCK_P)
    o_n = tl.arange(0, BLOCK_N)
    o_t = t0 + o_q
    m_t = o_t < L
    m_p = o_p < P
    m_n = o_n < N
    m_pn = m_p[:, None] & m_n[None, :]
    m_tp = m_t[:, None] & m_p[None, :]
    m_tn = m_t[:, None] & m_n[None, :]
    m_last = o_q == CHUNK - 1

    b_A = tl.load(A + i_h).to(tl.float32)
    b_dt_bias = 0.0
    if HAS_DT_BIAS:
        b_dt_bias = tl.load(dt_bias + i_h).to(tl.float32)
    b_dt, b_ddt_draw, b_cs, m_ij, b_w_out, b_e_state, b_keep = _chunk_decays(
        dt + i_b * stride_dtb + i_h * stride_dth + t0 * stride_dtl, seq_idx + i_b * stride_sb,
        o_q, t0, L, stride_dtl, stride_sl, b_A * LOG2E, b_dt_bias, dt_lo, dt_hi,
        CHUNK, HAS_DT_BIAS, DT_SOFTPLUS, HAS_SEQ_IDX)
    b_w_state = b_dt * b_e_state

    # ---- loads ----
    b_x = tl.load(x + i_b * stride_xb + i_h * stride_xh + t0 * stride_xl
                  + o_q[:, None] * stride_xl + o_p[None, :], mask=m_tp, other=0.0).to(tl.float32)
    b_B = tl.load(B + i_b * stride_Bb + i_g * stride_Bg + t0 * stride_Bl
                  + o_q[:, None] * stride_Bl + o_n[None, :], mask=m_tn, other=0.0).to(tl.float32)
    b_C = tl.load(C + i_b * stride_Cb + i_g * stride_Cg + t0 * stride_Cl
                  + o_q[:, None] * stride_Cl + o_n[None, :], mask=m_tn, other=0.0).to(tl.float32)
    b_do = tl.load(dout + i_b * stride_ob + i_h * stride_oh + t0 * stride_ol
                   + o_q[:, None] * stride_ol + o_p[None, :], mask=m_tp, other=0.0).to(tl.float32)
    o_state = ((i_b * H + i_h) * NC + i_c64) * P * N + o_p[:, None] * N + o_n[None, :]
    b_S = tl.load(states + o_state, mask=m_pn, other=0.0)

    # ---- intra-chunk matrix and the carried-state output ----
    b_CB = tl.dot(b_C, tl.trans(b_B), input_precision=DOT_PRECISION)
    b_E = tl.exp2(tl.where(m_ij, b_cs[:, None] - b_cs[None, :], -float("inf")))
    b_CBE = b_CB * b_E
    b_M = b_CBE * b_dt[None, :]
    b_yoff = tl.dot(b_C, tl.trans(b_S), input_precision=DOT_PRECISION)  # C_i . S_in[p]

    # ---- z gate: recompute the pre-gate output ----
    if HAS_D:
        if D_PER_CHANNEL:
            b_D = tl.load(D + i_h * P + o_p, mask=m_p, other=0.0).to(tl.float32)[None, :]
        else:
            b_D = tl.load(D + i_h).to(tl.float32)
    if HAS_Z:
        b_z = tl.load(z + i_b * stride_zb + i_h * stride_zh + t0 * stride_zl
                      + o_q[:, None] * stride_zl + o_p[None, :], mask=m_tp, other=0.0).to(tl.float32)
        b_y = b_yoff * b_w_out[:, None] + tl.dot(b_M, b_x, input_precision=DOT_PRECISION)
        if HAS_D:
            b_y += b_x * b_D
        b_sig = tl.sigmoid(b_z)
        b_dz = b_do * b_y * b_sig * (1.0 + b_z * (1.0 - b_sig))
        tl.store(dz + ((i_b * L + t0) * H + i_h) * P + o_q[:, None] * (H * P) + o_p[None, :],
                 b_dz.to(dz.dtype.element_ty), mask=m_tp)
        b_dy = b_do * b_z * b_sig
    else:
        b_dy = b_do

    # ---- C (needs S_in), then the state-side terms (need dS) ----
    b_dM = tl.dot(b_dy, tl.trans(b_x), input_precision=DOT_PRECISION)
    b_dCB = b_dM * b_E * b_dt[None, :]
    b_dC = tl.dot(b_dCB, b_B, input_precision=DOT_PRECISION)
    b_dC += tl.dot(b_dy, b_S, input_precision=DOT_PRECISION) * b_w_out[:, None]
    b_dcs = b_w_out * tl.sum(b_dy * b_yoff, axis=1)
    o_part = ((i_p64 * BATCH + i_b) * L + t0) * H + i_h
    o_bc = o_part * N + o_q[:, None] * (H * N) + o_n[None, :]
    tl.store(dC_part + o_bc, b_dC, mask=m_tn)
    b_dS = tl.load(dstates + o_state, mask=m_pn, other=0.0)
    b_dlast = b_keep * tl.sum(tl.sum(b_dS * b_S, axis=1), axis=0)
    b_dB = tl.dot(tl.trans(b_dCB), b_C, input_precision=DOT_PRECISION)
    b_dB += tl.dot(b_x, b_dS, input_precision=DOT_PRECISION) * b_w_state[:, None]
    tl.store(dB_part + o_bc, b_dB, mask=m_tn)
    b_U = tl.dot(b_B, tl.trans(b_dS), input_precision=DOT_PRECISION)  # (dS B_j)[p]
    b_dx = tl.dot(tl.trans(b_M), b_dy, input_precision=DOT_PRECISION) + b_U * b_w_state[:, None]
    if HAS_D:
        b_dx += b_dy * b_D
        tl.store(dD_part + ((i_b * H + i_h) * NC + i_c64) * P + o_p, tl.sum(b_dy * b_x, axis=0), mask=m_p)
    tl.store(dx + ((i_b * L + t0) * H + i_h) * P + o_q[:, None] * (H * P) + o_p[None, :],
             b_dx.to(dx.dtype.element_ty), mask=m_tp)

    # ---- dt and A through the decays ----
    b_dw = tl.sum(b_x * b_U, axis=1)  # d loss / d w_state_j
    b_G = b_dM * b_M
    b_dcs += tl.sum(b_G, axis=1) - tl.sum(b_G, axis=0)
    b_dcs -= b_dw * b_w_state
    b_dlast += tl.sum(b_dw * b_w_state, axis=0)
    b_dcs += tl.where(m_last, b_dlast, 0.0)
    b_r = tl.sum(b_dcs, axis=0) - tl.cumsum(b_dcs, axis=0) + b_dcs  # d loss / d (dt_k A)
    b_ddt = tl.sum(b_dM * b_CBE, axis=0) + b_dw * b_e_state + b_r * b_A
    tl.store(ddt_part + o_part + o_q * H, b_ddt * b_ddt_draw, mask=m_t)
    tl.store(dA_part + (i_bh * NC + i_c64) * N_PBLOCKS + i_p64, tl.sum(b_dt * b_r, axis=0))


def _ssd_bwd_v3(
    dout, x, dt, A, B, C, D=None, z=None, dt_bias=None, initial_states=None, seq_idx=None,
    dt_softplus=False, dt_limit=(0.0, math.inf), dfinal_states=None,
    *, block_p=None, block_q=None, num_warps=None,
):
    """v3 (the first correct version, kept selectable): gradients of the SSD scan. Inputs as for mamba_chunk_scan_combined
    (validated by the caller); dout: [b, l, h, p] gradient of out;
    dfinal_states: [b, h, p, n] gradient of final_states | None.
    block_p, block_q, num_warps: launch overrides (the result does not depend
    on them beyond rounding).

    Returns a dict of gradients: dx [b, l, h, p] (x.dtype), ddt [b, l, h]
    (raw dt: through dt_bias, softplus and clamp), dA [h], dB, dC [b, l, g, n],
    dD ([h] or [h, p]) | None, dz [b, l, h, p] | None, ddt_bias [h] | None,
    dinitial_states [b, h, p, n] | None (all float32 except dx, dz).
    """
    b, l, h, p = x.shape
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
    lo, hi = dt_limit
    lo = -math.inf if lo is None else float(lo)
    hi = math.inf if hi is None else float(hi)

    block_p = block_p or LAUNCH.bwd.block_p or max(16, min(64, triton.next_power_of_2(p)))
    block_n = max(16, triton.next_power_of_2(n))
    block_q = block_q or BWD_BLOCK_Q
    num_warps = num_warps or BWD_WARPS
    npb = triton.cdiv(p, block_p)
    nchunks = triton.cdiv(l, block_q)
    # fp32 inputs get exact fp32 dots unless the user allows tf32 (as torch's matmuls do)
    exact = x.dtype == torch.float32 and not torch.backends.cuda.matmul.allow_tf32
    prec = "ieee" if exact else "tf32"
    flags = dict(
        CHUNK=block_q, BLOCK_P=block_p, BLOCK_N=block_n, DOT_PRECISION=prec,
        HAS_DT_BIAS=dt_bias is not None, DT_SOFTPLUS=bool(dt_softplus), HAS_SEQ_IDX=seq_idx is not None,
    )
    dt_bias_arg = dt_bias if dt_bias is not None else A
    seq_arg = seq_idx if seq_idx is not None else dt
    seq_strides = (seq_idx.stride(0), seq_idx.stride(1)) if seq_idx is not None else (0, 0)
    z_arg = z if z is not None else x
    z_strides = (z.stride(0), z.stride(1), z.stride(2)) if z is not None else (0, 0, 0)
    dt_strides = (dt.stride(0), dt.stride(1), dt.stride(2))
    C_strides = (C.stride(0), C.stride(1), C.stride(2))
    o_strides = (dout.stride(0), dout.stride(1), dout.stride(2))
    grid_walk = (npb, b * h)

    # 1. forward walk: the state entering every chunk
    states = torch.empty((b, h, nchunks, p, n), device=dev, dtype=f32)
    init_strides = (
        (initial_states.stride(0), initial_states.stride(1), initial_states.stride(2))
        if initial_states is not None else (0, 0, 0)
    )
    _ssd_bwd_states_kernel[grid_walk](
        x, dt, A, B, dt_bias_arg,
        initial_states if initial_states is not None else x,
        seq_arg, states,
        l, h, p, n, h // g, _loop_count(nchunks), nchunks,
        x.stride(0), x.stride(1), x.stride(2),
        *dt_strides,
        B.stride(0), B.stride(1), B.stride(2),
        *init_strides,
        *seq_strides,
        lo, hi,
        HAS_INIT=initial_states is not None,
        num_warps=num_warps,
        **flags,
    )

    # 2. reverse walk: the adjoint of the state leaving every chunk
    dstates = torch.empty_like(states)
    dinit = torch.empty((b, h, p, n), device=dev, dtype=f32) if initial_states is not None else None
    _ssd_bwd_dstates_kernel[grid_walk](
        dt, A, C, z_arg, dt_bias_arg, seq_arg, dout,
        dfinal if dfinal is not None else states,
        dstates,
        dinit if dinit is not None else states,
        l, h, p, n, h // g, _loop_count(nchunks), nchunks,
        *dt_strides, *C_strides, *z_strides, *o_strides, *seq_strides,
        lo, hi,
        HAS_Z=z is not None,
        HAS_DFINAL=dfinal is not None,
        STORE_DINIT=dinit is not None,
        num_warps=num_warps,
        **flags,
    )

    # 3. every (chunk, p-block, batch, head) in parallel
    dx = torch.empty((b, l, h, p), device=dev, dtype=x.dtype)
    dz = torch.empty((b, l, h, p), device=dev, dtype=z.dtype) if z is not None else None
    dB_part = torch.empty((npb, b, l, h, n), device=dev, dtype=f32)
    dC_part = torch.empty((npb, b, l, h, n), device=dev, dtype=f32)
    ddt_part = torch.empty((npb, b, l, h), device=dev, dtype=f32)
    dA_part = torch.empty((b * h, nchunks, npb), device=dev, dtype=f32)
    dD_part = torch.empty((b, h, nchunks, p), device=dev, dtype=f32) if D is not None else None
    _ssd_bwd_chunk_kernel[(nchunks * npb, b * h)](
        x, dt, A, B, C,
        D if D is not None else A,
        z_arg, dt_bias_arg, seq_arg, states, dstates, dout,
        dx,
        dz if dz is not None else dx,
        dB_part, dC_part, ddt_part, dA_part,
        dD_part if dD_part is not None else dA_part,
        b, l, h, p, n, h // g, nchunks, npb,
        x.stride(0), x.stride(1), x.stride(2),
        *dt_strides,
        B.stride(0), B.stride(1), B.stride(2),
        *C_strides, *z_strides, *o_strides, *seq_strides,
        lo, hi,
        HAS_D=D is not None,
        D_PER_CHANNEL=D is not None and D.dim() == 2,
        HAS_Z=z is not None,
        num_warps=num_warps,
        **flags,
    )

    # Deterministic reductions of the partials (fixed order, no atomics).
    hpg = h // g
    ddt = ddt_part.sum(0)
    grads = {
        "dx": dx,
        "dz": dz,
        "ddt": ddt,
        "dA": dA_part.view(b, h, nchunks * npb).sum((0, 2)),
        "dB": dB_part.view(npb, b, l, g, hpg, n).sum((0, 4)),
        "dC": dC_part.view(npb, b, l, g, hpg, n).sum((0, 4)),
        "ddt_bias": ddt.sum((0, 1)) if dt_bias is not None else None,
        "dinitial_states": dinit,
        "dD": None,
    }
    if D is not None:
        dD = dD_part.sum((0, 2))
        grads["dD"] = dD if D.dim() == 2 else dD.sum(1)
    return grads


# ---------------------------------------------------------------------------
# v4: pre-kernel + two transposed walks + one chunk kernel per (chunk, batch,
# group, head-split).
#   0. _ssd_dt_cumsum_kernel (the forward's T+pre prologue): dt and the
#      chunk-local cumsum, once per (b, h, t), into padded fp32 rows.
#   1. _ssd_bwd_walk_kernel, forward: S_in(c) stored for every chunk, in x's
#      dtype for bf16/fp16 inputs (it only feeds bf16 dots), fp32 otherwise.
#      T form: S [P, N] = S * keep + (x^T * w_state) @ B, the fp32 state is the
#      accumulator of its own dot (as the forward's T walk).
#   2. the same kernel, REVERSE: dS_out(c) stored for every chunk,
#      dS <- dS * keep + (dy^T) @ (C * w_out).
#   3. _ssd_bwd_chunk_v4_kernel, grid (chunks, b * g * head-splits): C B^T once
#      per group and chunk, then a loop over the split's heads (and p-blocks)
#      that writes dx, dz, ddt (complete: its sums over p stay in the program)
#      and accumulates dB, dC of the group in registers. dB/dC partials are
#      [splits, b, l, g, n] (split count chosen so programs fill the SMs), not
#      per head: 80 heads of one group no longer write 80 fp32 copies.
# All dots take bf16 operands for bf16 inputs (fp32 accumulate), like the
# forward; v3 widened everything to fp32 (tf32 dots, twice the registers).
# ---------------------------------------------------------------------------
