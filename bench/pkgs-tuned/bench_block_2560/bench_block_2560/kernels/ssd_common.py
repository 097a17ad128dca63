# generated from bench/models/block-2560.ts by @mamba2/codegen 0.1.0 -- do not edit
# ir-hash: d314f8f23576f3ecc35b8332ab575b62c3f17b6e8e3790bb03c3ae4cbc66b5ec
# copied from packages/kernels/python/mamba2_kernels/kernels/ssd_common.py
"""The pieces every SSD scan kernel shares (fused, chunked; the backward may
use them too), each written once:

  dt_prologue    raw dt of one chunk -> (dt, cs): the dt chain fragment
                 (bias, softplus, clamp), 0 past L, and the chunk-local
                 cumsum of dt * A * log2(e) (decays are exp2 of differences),
                 restarted at each sequence start (segment_cumsum).
  segment_ids    seq_idx -> segment counter of each position of a chunk.
  segment_cumsum prefix (or suffix) sums restarted at segment changes.
  x_finite /     non-finite x in the intra-chunk dot: the dot reads x with
  nonfinite_rows its NaN/Inf elements as 0 (a NaN would meet the masked zeros
                 of W, 0 * NaN = NaN, and reach earlier rows and other
                 sequences of its chunk); nonfinite_rows then says which
                 outputs the recurrence does give a non-finite value.
  token_index    scan position -> natural (row-major) token of a scan order
                 (cross scans over an image, MAMBA2.md "Scans in other
                 orders"); row_offsets is its per-chunk form.
  carry_state    one step of the state-passing walk between chunks or
                 L-segments: S <- exp2(decay) S + S_local, or S_local where
                 a sequence starts (tl.where: a NaN or Inf of the sequence
                 before never reaches the next one).

All are inlined by Triton: calling them costs nothing over writing them out.
"""
from __future__ import annotations

import triton
import triton.language as tl

LOG2E = tl.constexpr(1.4426950408889634)


@triton.jit
def _segment_sum(s1, v1, s2, v2):
    return s2, tl.where(s1 == s2, v1 + v2, v2)


@triton.jit
def segment_cumsum(b_v, b_seg, REVERSE: tl.constexpr = False):
    """cumsum of b_v along axis 0, restarted wherever the (non-decreasing)
    segment counter b_seg (same shape) changes; REVERSE: the suffix sums
    (sum over the later positions of the same segment)."""
    _, b_cs = tl.associative_scan((b_seg, b_v), axis=0, combine_fn=_segment_sum, reverse=REVERSE)
    return b_cs


@triton.jit
def dt_prologue(b_raw, b_bias, b_a, m_t, lo, hi, b_seg,
                DT_CHAIN: tl.constexpr, HAS_DT_BIAS: tl.constexpr, DT_SOFTPLUS: tl.constexpr,
                HAS_SEQ_IDX: tl.constexpr):
    """b_raw: raw dt of a chunk, time on axis 0 ([Q] or [Q, H]), fp32;
    b_bias: loaded dt_bias (0.0 without); b_a: A * log2(e) broadcastable to
    b_raw; m_t: positions inside L; b_seg: segment_ids of the positions, the
    shape of b_raw (0 without seq_idx). Returns (dt, cs) with dt = 0 past L and
    cs = cumsum(dt * b_a) along time, restarted at every sequence start with
    seq_idx: each segment's decays then come from its own dt only, so an Inf
    in dt cannot reach a later sequence of the chunk (-inf - -inf is NaN).
    Every use of cs compares positions of one segment (or the chunk's first
    segment from the chunk start), so restarting changes no finite result."""
    b_dt = DT_CHAIN(b_raw, b_bias, lo, hi, HAS_DT_BIAS, DT_SOFTPLUS)
    b_dt = tl.where(m_t, b_dt, 0.0)  # positions past L contribute nothing
    if HAS_SEQ_IDX:
        b_cs = segment_cumsum(b_dt * b_a, b_seg)
    else:
        b_cs = tl.cumsum(b_dt * b_a, axis=0)
    return b_dt, b_cs


@triton.jit
def segment_ids(p_s, stride_sl, o_t, m_t):
    """Segment counter of each position of a chunk (0 = the sequence the chunk
    started in) and the chunk's last counter. Compares with the previous
    position, also across chunk and L-segment starts, so any change is caught."""
    b_seq = tl.load(p_s + o_t * stride_sl, mask=m_t, other=0)
    m_prev = m_t & (o_t > 0)
    b_seq_prev = tl.load(p_s + (o_t - 1) * stride_sl, mask=m_prev, other=0)
    b_seg = tl.cumsum((m_prev & (b_seq != b_seq_prev)).to(tl.int32), axis=0)
    return b_seg, tl.max(b_seg, axis=0)


@triton.jit
def carry_state(b_S, b_decay, b_S_local, m_reset):
    """State entering the next chunk / L-segment: the carried state times
    exp2(b_decay) plus the piece's own end state; only the piece's own where
    a sequence starts inside it (m_reset)."""
    return tl.where(m_reset, b_S_local, b_S * tl.exp2(b_decay) + b_S_local)


@triton.jit
def load_skip(D, i_h, o_p, m_p, P, HAS_D: tl.constexpr, D_PER_CHANNEL: tl.constexpr, P_AXIS: tl.constexpr):
    """Head i_h's D skip weight for the p-block o_p, fp32: a [1, BLOCK_P]
    (P_AXIS 1) or [BLOCK_P, 1] (P_AXIS 0) tile when D is per channel ([h, p]),
    its scalar when per head, 0.0 without D."""
    b_D = 0.0
    if HAS_D:
        if D_PER_CHANNEL:
            b_D = tl.load(D + i_h * P + o_p, mask=m_p, other=0.0).to(tl.float32)
            if P_AXIS == 1:
                b_D = b_D[None, :]
            else:
                b_D = b_D[:, None]
        else:
            b_D = tl.load(D + i_h).to(tl.float32)
    return b_D


@triton.jit
def x_finite(b_x):
    """True where b_x is finite (NaN fails every comparison)."""
    return tl.abs(b_x) < float("inf")


@triton.jit
def nonfinite_rows(m_fin, m_ij, AXIS: tl.constexpr, DOT_DTYPE: tl.constexpr):
    """Which intra-chunk outputs a non-finite x reaches, as in the recurrence:
    output i of column p iff some x[j, p] with m_ij[i, j] (j <= i, i's
    sequence) is non-finite. m_fin: x_finite of the chunk's x tile, time on
    axis AXIS ([Q, P] for AXIS 0, [P, Q] for AXIS 1); m_ij: the intra-chunk
    mask of that kernel ([i, j] for AXIS 0, [j, i] for AXIS 1). Returns the
    mask in m_fin's shape.
    The count of reaching non-finite rows is one small dot of the mask with a
    bad-value indicator: exact for any number of sequences and bad rows in a
    chunk, and it stays in the dot's layout. The first form, a tl.min over the
    chunk rows per column, measured 0.551 vs 0.405 ms for the whole fused
    forward at (4, 4096, 80) bf16 on the H200 (NOTES "Non-finite inputs")."""
    b_bad = (~m_fin).to(DOT_DTYPE)
    if AXIS == 0:
        b_n = tl.dot(m_ij.to(DOT_DTYPE), b_bad)
    else:
        b_n = tl.dot(b_bad, m_ij.to(DOT_DTYPE))
    return b_n > 0


# ---- scan orders (cross scans over an HI x WI image, cross_scan.py) ----
# ORDER 0 row-major (today's scan: t is the token), 1 column-major
# (t = j * HI + i), 2 / 3 = 0 / 1 reversed. Every kernel that reads or writes
# a sequence position goes through these two, so ORDER 0 compiles to exactly
# the addressing it had (the branches are constexpr).


@triton.jit
def token_index(t, HI, WI, ORDER: tl.constexpr):
    """The natural (row-major, i * WI + j) token that scan position t of
    order ORDER visits. Positions past L map outside [0, L) or anywhere:
    callers mask them by t < L, never by the token."""
    if ORDER == 0:
        return t
    elif ORDER == 1:
        return (t % HI) * WI + t // HI
    elif ORDER == 2:
        return HI * WI - 1 - t
    else:
        u = HI * WI - 1 - t
        return (u % HI) * WI + u // HI


@triton.jit
def row_offsets(o_q, t0, HI, WI, ORDER: tl.constexpr):
    """Row offsets, relative to natural row t0, of the chunk of scan positions
    t0 + o_q: o_q itself for ORDER 0 (so pointers advanced by CHUNK rows and
    offsets o_q * stride stay exactly as they were), else token - t0."""
    if ORDER == 0:
        return o_q
    else:
        return token_index(t0 + o_q, HI, WI, ORDER) - t0
