# generated from bench/models/block-2560.ts by @mamba2/codegen 0.1.0 -- do not edit
# ir-hash: d314f8f23576f3ecc35b8332ab575b62c3f17b6e8e3790bb03c3ae4cbc66b5ec
# copied from packages/kernels/python/mamba2_kernels/kernels/ssd_bwd_common.py
"""The pieces both SSD backward versions share (v4 in ssd_bwd.py, v6 in
ssd_bwd_v6.py): the dt chain's value and gradient on a chunk (_dt_chunk), the
dot operand cast (_op) and the forward / reverse state walk (its v6 constexprs
keep one state per chunk of several tiles and flag a non-finite last state;
their defaults compile v4's walk).
"""
from __future__ import annotations

import triton
import triton.language as tl

from .fastlaunch import fast_launch
from ..fragments import softplus_f32
from .ssd_common import row_offsets, segment_ids, x_finite


@triton.jit
def _dt_chunk(p_dt, o_q, m_t, stride_dtl, b_dt_bias, dt_lo, dt_hi,
              HAS_DT_BIAS: tl.constexpr, DT_SOFTPLUS: tl.constexpr):
    """dt of one chunk (fp32, 0 past L) and d dt / d dt_raw."""
    b_v = tl.load(p_dt + o_q * stride_dtl, mask=m_t, other=0.0).to(tl.float32)
    if HAS_DT_BIAS:
        b_v = b_v + b_dt_bias
    b_d = tl.full(b_v.shape, 1.0, tl.float32)
    if DT_SOFTPLUS:
        m_inf = b_v == float("inf")
        b_d = tl.where(b_v > 20.0, 1.0, tl.sigmoid(b_v))
        b_v = softplus_f32(b_v)
    # torch.clamp passes the gradient where lo <= v <= hi
    b_d = tl.where((b_v >= dt_lo) & (b_v <= dt_hi), b_d, 0.0)
    if DT_SOFTPLUS:  # NaN at v = inf, clamped or not, as autograd through the reference's
        b_d = tl.where(m_inf, float("nan"), b_d)  # softplus gives (0 * exp(inf) in its unused branch)
    b_v = tl.minimum(tl.maximum(b_v, dt_lo), dt_hi)
    b_v = tl.where(m_t, b_v, 0.0)
    b_d = tl.where(m_t, b_d, 0.0)
    return b_v, b_d


@triton.jit
def _op(v, ELT: tl.constexpr, DOT_DTYPE: tl.constexpr):
    """A dot operand: rounded to the input dtype, then in the dot dtype (the
    same as ELT compiled; fp32 under the interpreter, see host.dot_dtype)."""
    return v.to(ELT).to(DOT_DTYPE)


@fast_launch
@triton.jit
def _ssd_bwd_walk_kernel(
    lt, rt, z, dtp, csp, seq_idx, start, out_states, last,
    L, H, P, N, HEADS_PER_GROUP, LP, N_CHUNKS, NC,
    stride_lb, stride_ll, stride_lh,
    stride_rb, stride_rl, stride_rg,
    stride_zb, stride_zl, stride_zh,
    stride_sb, stride_sl,
    stride_ib, stride_ih, stride_ip,
    CHUNK: tl.constexpr,
    BLOCK_P: tl.constexpr,
    BLOCK_N: tl.constexpr,
    DOT_DTYPE: tl.constexpr,
    DOT_PRECISION: tl.constexpr,
    REVERSE: tl.constexpr,
    HAS_Z: tl.constexpr,
    HAS_START: tl.constexpr,
    HAS_SEQ_IDX: tl.constexpr,
    STORE_LAST: tl.constexpr,
    ORDER: tl.constexpr = 0,
    HI=1, WI=1,
    STORE_EVERY: tl.constexpr = 1,
    COARSE: tl.constexpr = 1,
    FLAG: tl.constexpr = False,
    flags=None,
):
    """Grid (p_blocks, b * h). Forward (REVERSE False): lt = x, rt = B, start =
    initial_states; stores S entering every chunk. Reverse: lt = dout (gated by
    silu(z)), rt = C, start = d final_states (fp32 [b, h, p, n]); stores dS
    leaving every chunk and, with STORE_LAST, dS entering chunk 0 (d init).
    ORDER (ssd_common.token_index): the scan order over an HI x WI image.
    Backward v6 (ssd_bwd_v6.py) keeps one state per STORE_EVERY tiles (the
    one entering, forward; leaving, reverse; slot i_c // STORE_EVERY) and
    reads cumsums that run over COARSE tiles (its dt pre-kernel's chunk),
    made tile-local here by subtracting the sum before the tile; FLAG: each
    program stores 1 in flags[b*h, p_block] if its last state is not finite:
    every value it loaded (lt, rt, start, the cumsum) entered that state
    through a product (inf * 0 is NaN), so a non-finite one shows there (v6
    then gives the call to v4). The defaults (1, 1,
    False) compile v4's walk."""
    i_p = tl.program_id(0)
    i_bh = tl.program_id(1)
    i_b = i_bh // H
    i_h = i_bh % H
    i_g = i_h // HEADS_PER_GROUP
    i_b64 = i_b.to(tl.int64)
    i_h64 = i_h.to(tl.int64)
    i_bh64 = i_bh.to(tl.int64)
    ELT = lt.dtype.element_ty

    o_q = tl.arange(0, CHUNK)
    o_p = i_p * BLOCK_P + tl.arange(0, BLOCK_P)
    o_n = tl.arange(0, BLOCK_N)
    m_p = o_p < P
    m_n = o_n < N
    m_pn = m_p[:, None] & m_n[None, :]

    p_l = lt + i_b64 * stride_lb + i_h64 * stride_lh
    p_r = rt + i_b64 * stride_rb + i_g.to(tl.int64) * stride_rg
    if HAS_Z:
        p_z = z + i_b64 * stride_zb + i_h64 * stride_zh
    if HAS_SEQ_IDX:
        p_s = seq_idx + i_b64 * stride_sb
    o_lT = o_p[:, None] + o_q[None, :] * stride_ll  # [P, Q]: transposed by addressing
    o_r = o_q[:, None] * stride_rl + o_n[None, :]
    if HAS_Z:
        o_zT = o_p[:, None] + o_q[None, :] * stride_zl
    o_pn = o_p[:, None] * N + o_n[None, :]

    if HAS_START:
        if REVERSE:
            p_start = start + i_bh64 * P * N
            b_S = tl.load(p_start + o_pn, mask=m_pn, other=0.0).to(tl.float32)
        else:
            p_start = start + i_b64 * stride_ib + i_h64 * stride_ih
            b_S = tl.load(p_start + o_p[:, None] * stride_ip + o_n[None, :], mask=m_pn, other=0.0).to(tl.float32)
    else:
        b_S = tl.zeros([BLOCK_P, BLOCK_N], dtype=tl.float32)
    p_states = out_states + i_bh64 * (NC // STORE_EVERY) * P * N

    for i_r in range(0, N_CHUNKS):
        if REVERSE:
            i_c = NC - 1 - i_r
        else:
            i_c = i_r
        t0 = i_c * CHUNK
        t0_64 = i_b64 * 0 + t0
        if STORE_EVERY == 1:
            tl.store(p_states + (i_b64 * 0 + i_c) * P * N + o_pn, b_S.to(out_states.dtype.element_ty), mask=m_pn)
        else:  # one state per STORE_EVERY tiles: the one entering (forward) or leaving (reverse) them
            if REVERSE:
                m_store = (i_c % STORE_EVERY) == STORE_EVERY - 1
            else:
                m_store = (i_c % STORE_EVERY) == 0
            tl.store(p_states + (i_b64 * 0 + i_c // STORE_EVERY) * P * N + o_pn,
                     b_S.to(out_states.dtype.element_ty), mask=m_pn & m_store)
        o_t = t0 + o_q
        m_t = o_t < L
        m_pt = m_p[:, None] & m_t[None, :]
        if ORDER == 0:
            o_lc, o_rc = o_lT, o_r
            if HAS_Z:
                o_zc = o_zT
        else:  # the chunk's rows through the order's index map
            o_w = row_offsets(o_q, t0, HI, WI, ORDER)
            o_lc = o_p[:, None] + o_w[None, :] * stride_ll
            o_rc = o_w[:, None] * stride_rl + o_n[None, :]
            if HAS_Z:
                o_zc = o_p[:, None] + o_w[None, :] * stride_zl
        b_l = tl.load(p_l + t0_64 * stride_ll + o_lc, mask=m_pt, other=0.0).to(tl.float32)
        b_r = tl.load(p_r + t0_64 * stride_rl + o_rc, mask=m_t[:, None] & m_n[None, :], other=0.0).to(tl.float32)
        b_cs = tl.load(csp + i_bh64 * LP + t0_64 + o_q)
        b_cs_last = tl.load(csp + i_bh64 * LP + t0_64 + (CHUNK - 1))
        if COARSE > 1:  # cumsums over COARSE tiles: tile-local from the sum before this tile
            b_cs_prev = tl.load(csp + i_bh64 * LP + t0_64 - 1, mask=(i_c % COARSE) != 0, other=0.0)
            b_cs = b_cs - b_cs_prev
            b_cs_last = b_cs_last - b_cs_prev
        b_acc = b_S * tl.exp2(b_cs_last)
        if HAS_SEQ_IDX:
            b_seg, b_seg_last = segment_ids(p_s, stride_sl, o_t, m_t)
            b_acc = tl.where(b_seg_last == 0, b_acc, 0.0)
        if REVERSE:
            if HAS_Z:
                b_z = tl.load(p_z + t0_64 * stride_zl + o_zc, mask=m_pt, other=0.0).to(tl.float32)
                b_l = b_l * b_z * tl.sigmoid(b_z)
            b_r = b_r * tl.exp2(b_cs)[:, None]  # w_out: weight of the carried state in each output
            if HAS_SEQ_IDX:
                m_sel = b_seg == 0
        else:
            b_dt = tl.load(dtp + i_bh64 * LP + t0_64 + o_q)
            b_l = b_l * (b_dt * tl.exp2(b_cs_last - b_cs))[None, :]  # w_state: weight in the new state
            if HAS_SEQ_IDX:
                m_sel = b_seg == b_seg_last
        if HAS_SEQ_IDX:  # tl.where on both operands, not * 0: a NaN of another sequence stays there
            b_l = tl.where(m_sel[None, :], b_l, 0.0)
            b_r = tl.where(m_sel[:, None], b_r, 0.0)
        b_S = tl.dot(_op(b_l, ELT, DOT_DTYPE), _op(b_r, ELT, DOT_DTYPE), acc=b_acc,
                     input_precision=DOT_PRECISION)

    if STORE_LAST:
        tl.store(last + i_bh64 * P * N + o_pn, b_S, mask=m_pn)
    if FLAG:  # every loaded value entered b_S through the dots (x 0 = NaN too): a non-finite one stays
        tl.store(flags + i_bh64 * tl.num_programs(0) + i_p,
                 tl.max(tl.max((~x_finite(b_S)).to(tl.int32), axis=1), axis=0))
