"""The one-launch form of the fused SSD forward (ssd_fused.ssd_fused_fwd runs it
for small problems, ssd_fused_dispatch.use_pre; the T+pre form for larger ones
is in ssd_fused.py).

Grid (cdiv(P, BLOCK_P), B * H). Each program owns one (batch, head, p-block)
and walks its chunks in time order, keeping the state S [BLOCK_P, N] in fp32
registers; there is no separate state-passing launch. The dt prologue (bias,
softplus, clamp) and the D / z epilogue are fused in. Decays use exp2 with A
pre-scaled by log2(e).

Per chunk of CHUNK positions, with cs = cumsum(dt * A * log2 e):
    y   = ((C B^T) * exp2(cs_i - cs_j) * dt_j)[i >= j] @ x  +  exp2(cs_i) * (C @ S^T)
    S  <- exp2(cs_last) * S  +  (x * dt_j * exp2(cs_last - cs_j))^T @ B
With seq_idx, the chunk's positions get a segment counter (cumsum of change
flags), so the masks are exact wherever the changes fall: the intra-chunk term
only mixes equal segments, only positions before the chunk's first change see
S, and only the last segment's contributions are carried on.
"""
from __future__ import annotations

import triton
import triton.language as tl

from .fastlaunch import fast_launch
from .ssd_common import LOG2E, dt_prologue, load_skip, nonfinite_rows, row_offsets, segment_ids, x_finite


@fast_launch
@triton.jit
def _ssd_fused_fwd_kernel(
    x, dt, A, B, C, D, z, dt_bias, init, seq_idx, out, final,
    L, H, P, N, HEADS_PER_GROUP, N_CHUNKS,
    stride_xb, stride_xl, stride_xh,
    stride_dtb, stride_dtl, stride_dth,
    stride_Bb, stride_Bl, stride_Bg,
    stride_Cb, stride_Cl, stride_Cg,
    stride_zb, stride_zl, stride_zh,
    stride_ob, stride_ol, stride_oh,
    stride_ib, stride_ih, stride_ip,
    stride_sb, stride_sl,
    dt_lo, dt_hi,
    CHUNK: tl.constexpr,
    BLOCK_P: tl.constexpr,
    BLOCK_N: tl.constexpr,
    DOT_DTYPE: tl.constexpr,
    HAS_D: tl.constexpr,
    D_PER_CHANNEL: tl.constexpr,
    HAS_Z: tl.constexpr,
    HAS_DT_BIAS: tl.constexpr,
    DT_SOFTPLUS: tl.constexpr,
    HAS_INIT: tl.constexpr,
    HAS_SEQ_IDX: tl.constexpr,
    STORE_FINAL: tl.constexpr,
    DT_CHAIN: tl.constexpr,
    SCAN_EPILOGUE: tl.constexpr,
    ORDER: tl.constexpr = 0,
    ACCUMULATE: tl.constexpr = False,
    HI=1, WI=1,
    prev=None, ysum=None,
    PREV: tl.constexpr = False,
    STORE_YSUM: tl.constexpr = False,
):
    """ORDER (ssd_common.token_index): the scan order over an HI x WI image;
    0 is the plain scan. ACCUMULATE: out (fp32) += y instead of out = y.
    PREV, STORE_YSUM (cross_scan.py merge 'chain'; prev and ysum have out's
    strides): out = epilogue(prev + y), prev read only; STORE_YSUM also writes
    the value before the gate, (prev + y) + D x, into ysum."""
    i_p = tl.program_id(0)
    i_bh = tl.program_id(1)
    i_b = i_bh // H
    i_h = i_bh % H
    i_g = i_h // HEADS_PER_GROUP
    i_b64 = i_b.to(tl.int64)
    i_h64 = i_h.to(tl.int64)

    o_q = tl.arange(0, CHUNK)
    o_p = i_p * BLOCK_P + tl.arange(0, BLOCK_P)
    o_n = tl.arange(0, BLOCK_N)
    m_p = o_p < P
    m_n = o_n < N

    # Scalar base pointers (int64 arithmetic: B*L*H*P may pass 2^31); the
    # per-element offsets inside one chunk are small and stay int32.
    p_x = x + i_b64 * stride_xb + i_h64 * stride_xh
    p_dt = dt + i_b64 * stride_dtb + i_h64 * stride_dth
    p_B = B + i_b64 * stride_Bb + i_g.to(tl.int64) * stride_Bg
    p_C = C + i_b64 * stride_Cb + i_g.to(tl.int64) * stride_Cg
    p_o = out + i_b64 * stride_ob + i_h64 * stride_oh
    if HAS_Z:
        p_z = z + i_b64 * stride_zb + i_h64 * stride_zh
    if PREV:
        p_prev = prev + i_b64 * stride_ob + i_h64 * stride_oh
    if STORE_YSUM:
        p_ys = ysum + i_b64 * stride_ob + i_h64 * stride_oh
    if HAS_SEQ_IDX:
        p_s = seq_idx + i_b64 * stride_sb

    o_xq = o_q[:, None] * stride_xl + o_p[None, :]
    o_oq = o_q[:, None] * stride_ol + o_p[None, :]
    o_Bq = o_q[:, None] * stride_Bl + o_n[None, :]
    o_Cq = o_q[:, None] * stride_Cl + o_n[None, :]
    if HAS_Z:
        o_zq = o_q[:, None] * stride_zl + o_p[None, :]

    b_a = tl.load(A + i_h).to(tl.float32) * LOG2E
    if HAS_DT_BIAS:
        b_dt_bias = tl.load(dt_bias + i_h).to(tl.float32)
    else:
        b_dt_bias = 0.0
    b_D = load_skip(D, i_h, o_p, m_p, P, HAS_D, D_PER_CHANNEL, 1)

    m_pn = m_p[:, None] & m_n[None, :]
    if HAS_INIT:
        p_init = init + i_b64 * stride_ib + i_h64 * stride_ih
        b_S = tl.load(p_init + o_p[:, None] * stride_ip + o_n[None, :], mask=m_pn, other=0.0).to(tl.float32)
    else:
        b_S = tl.zeros([BLOCK_P, BLOCK_N], dtype=tl.float32)

    m_causal = o_q[:, None] >= o_q[None, :]
    m_last = o_q == CHUNK - 1

    for i_c in range(0, N_CHUNKS):
        o_t = i_c * CHUNK + o_q
        m_t = o_t < L
        m_tp = m_t[:, None] & m_p[None, :]
        m_tn = m_t[:, None] & m_n[None, :]
        if ORDER == 0:
            o_dtc = o_q * stride_dtl
            o_xc, o_oc, o_Bc, o_Cc = o_xq, o_oq, o_Bq, o_Cq
            if HAS_Z:
                o_zc = o_zq
        else:  # the chunk's rows through the order's index map
            o_r = row_offsets(o_q, i_c * CHUNK, HI, WI, ORDER)
            o_dtc = o_r * stride_dtl
            o_xc = o_r[:, None] * stride_xl + o_p[None, :]
            o_oc = o_r[:, None] * stride_ol + o_p[None, :]
            o_Bc = o_r[:, None] * stride_Bl + o_n[None, :]
            o_Cc = o_r[:, None] * stride_Cl + o_n[None, :]
            if HAS_Z:
                o_zc = o_r[:, None] * stride_zl + o_p[None, :]

        # ---- loads of this chunk: none of them depends on the state ----
        b_dt = tl.load(p_dt + o_dtc, mask=m_t, other=0.0).to(tl.float32)
        b_B = tl.load(p_B + o_Bc, mask=m_tn, other=0.0)
        b_C = tl.load(p_C + o_Cc, mask=m_tn, other=0.0)
        b_x = tl.load(p_x + o_xc, mask=m_tp, other=0.0)
        # the intra-chunk dot reads x with its non-finite elements as 0 (a NaN
        # would meet the masked zeros of W: 0 * NaN); nonfinite_rows puts them back
        m_xfin = x_finite(b_x)
        b_xd = tl.where(m_xfin, b_x, 0.0).to(DOT_DTYPE)
        b_B = b_B.to(x.dtype.element_ty).to(DOT_DTYPE)
        b_C = b_C.to(x.dtype.element_ty).to(DOT_DTYPE)

        # ---- segments (packed sequences), dt prologue, decays ----
        if HAS_SEQ_IDX:
            b_seg, b_seg_last = segment_ids(p_s, stride_sl, o_t, m_t)
        else:
            b_seg = 0
        b_dt, b_cs = dt_prologue(b_dt, b_dt_bias, b_a, m_t, dt_lo, dt_hi, b_seg,
                                 DT_CHAIN, HAS_DT_BIAS, DT_SOFTPLUS, HAS_SEQ_IDX)
        b_cs_last = tl.sum(tl.where(m_last, b_cs, 0.0), axis=0)

        # Masked terms are selected away with tl.where, never multiplied by 0:
        # 0 * NaN is NaN, and a NaN or Inf (in x, dt or the carried state) must
        # not reach outputs the recurrence does not give it (earlier positions,
        # other sequences).
        m_ij = m_causal
        b_w_out = tl.exp2(b_cs)  # weight of the carried state in each output
        b_w_state = b_dt * tl.exp2(b_cs_last - b_cs)  # weight of each position in the new state
        b_keep = tl.exp2(b_cs_last)  # how much of the old state survives the chunk
        if HAS_SEQ_IDX:
            m_ij = m_ij & (b_seg[:, None] == b_seg[None, :])

        # ---- outputs: intra-chunk + carried state ----
        # (this order needed the fewest registers in sm_90 builds: spills 72-1424 B
        # vs 132-1496 B with the state term first)
        b_CB = tl.dot(b_C, tl.trans(b_B))
        b_W = tl.where(m_ij, b_CB * tl.exp2(b_cs[:, None] - b_cs[None, :]) * b_dt[None, :], 0.0)
        b_y = tl.dot(b_W.to(x.dtype.element_ty).to(DOT_DTYPE), b_xd)
        b_yS = tl.dot(b_C, tl.trans(b_S.to(x.dtype.element_ty).to(DOT_DTYPE))) * b_w_out[:, None]
        if HAS_SEQ_IDX:  # only positions before the chunk's first change see S
            b_yS = tl.where((b_seg == 0)[:, None], b_yS, 0.0)
        b_y += b_yS
        b_y = tl.where(nonfinite_rows(m_xfin, m_ij, 0, DOT_DTYPE), float("nan"), b_y)

        # ---- state for the next chunk ----
        b_xw = b_x * b_w_state[:, None]
        b_acc = b_S * b_keep
        b_Bs = b_B
        if HAS_SEQ_IDX:  # only the last segment is carried; a change drops the old state
            m_lastseg = b_seg == b_seg_last
            b_xw = tl.where(m_lastseg[:, None], b_xw, 0.0)
            b_Bs = tl.where(m_lastseg[:, None], b_B, 0.0)  # both operands: 0 * NaN
            b_acc = tl.where(b_seg_last == 0, b_acc, 0.0)
        b_xw = b_xw.to(x.dtype.element_ty).to(DOT_DTYPE)
        b_S = tl.dot(tl.trans(b_xw), b_Bs, acc=b_acc)

        # ---- epilogue (fragment): D skip, z gate ----
        if HAS_Z:
            b_z = tl.load(p_z + o_zc, mask=m_tp, other=0.0).to(tl.float32)
        else:
            b_z = 0.0
        if PREV:  # the earlier orders' sum: read, never written here, so a re-run writes the same
            b_y += tl.load(p_prev + o_oc, mask=m_tp, other=0.0).to(tl.float32)
        if STORE_YSUM:  # the skip, the sum stored, then the gate
            b_y = SCAN_EPILOGUE(b_y, b_x, b_D, b_z, HAS_D, False)
            tl.store(p_ys + o_oc, b_y.to(ysum.dtype.element_ty), mask=m_tp)
            b_y = SCAN_EPILOGUE(b_y, b_x, b_D, b_z, False, HAS_Z)
        else:
            b_y = SCAN_EPILOGUE(b_y, b_x, b_D, b_z, HAS_D, HAS_Z)
        if ACCUMULATE:
            b_y += tl.load(p_o + o_oc, mask=m_tp, other=0.0)
        tl.store(p_o + o_oc, b_y.to(out.dtype.element_ty), mask=m_tp)

        p_x += CHUNK * stride_xl
        p_dt += CHUNK * stride_dtl
        p_B += CHUNK * stride_Bl
        p_C += CHUNK * stride_Cl
        p_o += CHUNK * stride_ol
        if HAS_Z:
            p_z += CHUNK * stride_zl
        if PREV:
            p_prev += CHUNK * stride_ol
        if STORE_YSUM:
            p_ys += CHUNK * stride_ol

    if STORE_FINAL:
        p_final = final + (i_b64 * H + i_h64) * P * N
        tl.store(p_final + o_p[:, None] * N + o_n[None, :], b_S, mask=m_pn)
