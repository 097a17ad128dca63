# generated from examples/mamba2-conv6-nogate.ts by @mamba2/codegen 0.1.0 -- do not edit
# ir-hash: 9480897ab90b05dc27f89b9585bf4bf6042ed363de54c0be71ccbd479f275773
"""One-launch SSD scan: the running state stays on chip.

Grid (cdiv(P, BLOCK_P), B * H). Each program owns one (batch, head, p-block)
and walks its chunks in time order, keeping the state S [BLOCK_P, N] in fp32
registers, so per-chunk states never go to HBM and there is no separate
state-passing launch. The dt prologue (bias, softplus, clamp) and the D / z
epilogue are fused in. Decays use exp2 with A pre-scaled by log2(e).

Per chunk of CHUNK positions, with cs = cumsum(dt * A * log2 e):
    y   = ((C B^T) * exp2(cs_i - cs_j) * dt_j)[i >= j] @ x  +  exp2(cs_i) * (C @ S^T)
    S  <- exp2(cs_last) * S  +  (x * dt_j * exp2(cs_last - cs_j))^T @ B
With seq_idx, the chunk's positions get a segment counter (cumsum of change
flags), so the masks are exact wherever the changes fall: the intra-chunk term
only mixes equal segments, only positions before the chunk's first change see
S, and only the last segment's contributions are carried on.
"""
from __future__ import annotations

import functools
import math
import os

import torch
import triton
import triton.language as tl

from .._config import SCAN_BLOCK_P, SCAN_STAGES, SCAN_WARPS, TUNED
from .dt import cdiv, next_pow2, softplus_f32

LOG2E = tl.constexpr(1.4426950408889634)
# Triton decides at decoration time whether kernels are interpreted (CPU path).
_INTERPRETED = os.environ.get("TRITON_INTERPRET") == "1"

# CHUNK is only a tile size here: the fused walk gives the same result for any
# chunk length. Register use grows with CHUNK^2 (C B^T and its decay mask). On
# the H200 sweep (bench/sweeps/ssd-h200, headdim 32/64/128, d_state 128, bf16)
# a 32-long tile beat 64 and 128 at every shape: the walk is latency-bound per
# chunk, and the smaller tile spills nothing. Callers may force it with block_q.
MAX_BLOCK_Q = 32
# Programs wanted in flight before the p-block is halved (2 per SM of an H200).
_MIN_PROGRAMS = 264


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
    D_HAS_HDIM: tl.constexpr,
    HAS_Z: tl.constexpr,
    HAS_DT_BIAS: tl.constexpr,
    DT_SOFTPLUS: tl.constexpr,
    HAS_INIT: tl.constexpr,
    HAS_SEQ_IDX: tl.constexpr,
    STORE_FINAL: tl.constexpr,
):
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
    if HAS_D:
        if D_HAS_HDIM:
            b_D = tl.load(D + i_h * P + o_p, mask=m_p, other=0.0).to(tl.float32)[None, :]
        else:
            b_D = tl.load(D + i_h).to(tl.float32)

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

        # ---- loads of this chunk: none of them depends on the state ----
        b_dt = tl.load(p_dt + o_q * stride_dtl, mask=m_t, other=0.0).to(tl.float32)
        b_B = tl.load(p_B + o_Bq, mask=m_tn, other=0.0)
        b_C = tl.load(p_C + o_Cq, mask=m_tn, other=0.0)
        b_x = tl.load(p_x + o_xq, mask=m_tp, other=0.0)
        b_xd = b_x.to(DOT_DTYPE)
        b_B = b_B.to(x.dtype.element_ty).to(DOT_DTYPE)
        b_C = b_C.to(x.dtype.element_ty).to(DOT_DTYPE)

        # ---- dt prologue, decays ----
        if HAS_DT_BIAS:
            b_dt = b_dt + b_dt_bias
        if DT_SOFTPLUS:
            b_dt = softplus_f32(b_dt)
        b_dt = tl.minimum(tl.maximum(b_dt, dt_lo), dt_hi)
        b_dt = tl.where(m_t, b_dt, 0.0)  # positions past L contribute nothing
        b_cs = tl.cumsum(b_dt * b_a, axis=0)
        b_cs_last = tl.sum(tl.where(m_last, b_cs, 0.0), axis=0)

        # ---- segments (packed sequences) ----
        m_ij = m_causal
        b_w_out = tl.exp2(b_cs)  # weight of the carried state in each output
        b_w_state = b_dt * tl.exp2(b_cs_last - b_cs)  # weight of each position in the new state
        b_keep = tl.exp2(b_cs_last)  # how much of the old state survives the chunk
        if HAS_SEQ_IDX:
            b_seq = tl.load(p_s + o_t * stride_sl, mask=m_t, other=0)
            m_prev = m_t & (o_t > 0)
            b_seq_prev = tl.load(p_s + (o_t - 1) * stride_sl, mask=m_prev, other=0)
            b_seg = tl.cumsum((m_prev & (b_seq != b_seq_prev)).to(tl.int32), axis=0)
            b_seg_last = tl.max(b_seg, axis=0)
            m_ij = m_ij & (b_seg[:, None] == b_seg[None, :])
            b_w_out = tl.where(b_seg == 0, b_w_out, 0.0)
            b_w_state = tl.where(b_seg == b_seg_last, b_w_state, 0.0)
            b_keep = tl.where(b_seg_last == 0, b_keep, 0.0)

        # ---- outputs: intra-chunk + carried state ----
        # (this order needed the fewest registers in sm_90 builds: spills 72-1424 B
        # vs 132-1496 B with the state term first)
        b_CB = tl.dot(b_C, tl.trans(b_B))
        b_W = b_CB * tl.exp2(tl.where(m_ij, b_cs[:, None] - b_cs[None, :], -float("inf"))) * b_dt[None, :]
        b_y = tl.dot(b_W.to(x.dtype.element_ty).to(DOT_DTYPE), b_xd)
        b_y += tl.dot(b_C, tl.trans(b_S.to(x.dtype.element_ty).to(DOT_DTYPE))) * b_w_out[:, None]

        # ---- state for the next chunk ----
        b_xw = (b_x * b_w_state[:, None]).to(x.dtype.element_ty).to(DOT_DTYPE)
        b_S = tl.dot(tl.trans(b_xw), b_B, acc=b_S * b_keep)

        # ---- epilogue: D skip, z gate ----
        if HAS_D:
            b_y += b_x.to(tl.float32) * b_D
        if HAS_Z:
            b_z = tl.load(p_z + o_zq, mask=m_tp, other=0.0).to(tl.float32)
            b_y = b_y * b_z * tl.sigmoid(b_z)
        tl.store(p_o + o_oq, b_y.to(out.dtype.element_ty), mask=m_tp)

        p_x += CHUNK * stride_xl
        p_dt += CHUNK * stride_dtl
        p_B += CHUNK * stride_Bl
        p_C += CHUNK * stride_Cl
        p_o += CHUNK * stride_ol
        if HAS_Z:
            p_z += CHUNK * stride_zl

    if STORE_FINAL:
        p_final = final + (i_b64 * H + i_h64) * P * N
        tl.store(p_final + o_p[:, None] * N + o_n[None, :], b_S, mask=m_pn)


def _last_dim_contiguous(t):
    if t is None:
        return None
    return t if t.stride(-1) == 1 else t.contiguous()


def _loop_count(n):
    """A runtime loop bound for the kernel. The interpreter wraps int arguments
    as 1-element arrays, which NumPy >= 2.4 refuses as a range() bound; a NumPy
    scalar passes through unwrapped. Compiled kernels get the plain int."""
    if _INTERPRETED:
        import numpy as np

        return np.int32(n)
    return n


_TL_DTYPES = {torch.float32: tl.float32, torch.float16: tl.float16, torch.bfloat16: tl.bfloat16}


def _dot_dtype(dtype):
    """Dot operands go in x's dtype (bf16 dots, fp32 accumulate). The
    interpreter's bf16 tl.dot multiplies raw bit patterns, so there the
    operands are rounded to bf16 and then widened to fp32: same rounding,
    working dot."""
    if _INTERPRETED and dtype == torch.bfloat16:
        return tl.float32
    return _TL_DTYPES[dtype]


def _pick_block_p(p, bh):
    """min(64, next_pow2(p)), halved once to 32 when b*h*p_blocks programs
    would leave SMs idle (the sweep's (1, 16384, 80) shape: 0.95 ms at 32
    against 1.21 ms at 64); at least 16 (tl.dot needs 16 on every side)."""
    bp = max(16, min(64, next_pow2(p)))
    if bp > 32 and cdiv(p, bp) * bh < _MIN_PROGRAMS:
        bp = 32
    return bp


@functools.lru_cache(maxsize=256)
def _tuned_row(h, l):
    """The `_config.TUNED` row for h heads and seqlen l (pnpm gen --tuned):
    the smallest seqlen bucket of this head count that covers l, else its
    largest bucket, else None (use the defaults)."""
    rows = sorted((r for r in TUNED if r["nheads"] == h), key=lambda r: r["max_seqlen"])
    for r in rows:
        if l <= r["max_seqlen"]:
            return r
    return rows[-1] if rows else None


def _pick_block_q(chunk_size):
    return max(16, min(MAX_BLOCK_Q, next_pow2(chunk_size)))


def ssd_fused_fwd(
    x, dt, A, B, C, chunk_size, D=None, z=None, dt_bias=None, initial_states=None,
    seq_idx=None, dt_softplus=False, dt_limit=(0.0, math.inf), return_final_states=False,
    *, block_p=None, block_q=None, num_warps=None, num_stages=None,
):
    """Fused SSD forward, one launch. Inputs are assumed validated (functional.py).

    x: [b, l, h, p], dt: [b, l, h] (raw: bias/softplus/clamp applied inside),
    A: [h], B, C: [b, l, g, n] with h % g == 0 (head i reads group i // (h // g)),
    D: [h] or [h, p] | None, z: [b, l, h, p] | None, dt_bias: [h] | None,
    initial_states: [b, h, p, n] | None, seq_idx: [b, l] int | None,
    dt_limit: (lo, hi). x, B, C, z, initial_states may be strided views (last
    dim contiguous; copied otherwise).
    chunk_size: the tile length CHUNK the program walks in (result does not
    depend on it); capped at MAX_BLOCK_Q unless block_q forces a value.
    block_p, num_warps, num_stages: launch overrides; default from _config
    (SCAN_BLOCK_P 0 = _pick_block_p), or from the _config.TUNED row for (h, l).

    Returns (out [b, l, h, p] in x.dtype, final_states fp32 [b, h, p, n] or None).
    """
    b, l, h, p = x.shape
    g, n = B.shape[2], B.shape[3]
    x, B, C, z, initial_states = (
        _last_dim_contiguous(t) for t in (x, B, C, z, initial_states)
    )
    A = A.contiguous()
    if D is not None:
        D = D.contiguous()
    if dt_bias is not None:
        dt_bias = dt_bias.contiguous()
    lo, hi = dt_limit
    lo = -math.inf if lo is None else float(lo)
    hi = math.inf if hi is None else float(hi)

    row = _tuned_row(h, l) if None in (block_p, block_q, num_warps, num_stages) else None
    if row is not None:  # explicit arguments win over the tuned row
        block_p = block_p or row["block_p"]
        block_q = block_q or row["chunk_size"]
        num_warps = num_warps or row["num_warps"]
        num_stages = num_stages or row["num_stages"]
    if block_p is None:
        block_p = SCAN_BLOCK_P or _pick_block_p(p, b * h)
    block_q = block_q or _pick_block_q(chunk_size)
    num_warps = num_warps or SCAN_WARPS
    num_stages = num_stages or SCAN_STAGES
    block_n = max(16, next_pow2(n))
    dot_dtype = _dot_dtype(x.dtype)

    out = torch.empty((b, l, h, p), device=x.device, dtype=x.dtype)
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

    grid = (cdiv(p, block_p), b * h)
    _ssd_fused_fwd_kernel[grid](
        x, dt, A, B, C,
        D if D is not None else x,
        z_arg,
        dt_bias if dt_bias is not None else x,
        initial_states if initial_states is not None else x,
        seq_idx if seq_idx is not None else x,
        out,
        final if final is not None else out,
        l, h, p, n, h // g, _loop_count(cdiv(l, block_q)),
        x.stride(0), x.stride(1), x.stride(2),
        dt.stride(0), dt.stride(1), dt.stride(2),
        B.stride(0), B.stride(1), B.stride(2),
        C.stride(0), C.stride(1), C.stride(2),
        *z_strides,
        out.stride(0), out.stride(1), out.stride(2),
        *init_strides,
        *seq_strides,
        lo, hi,
        CHUNK=block_q,
        DOT_DTYPE=dot_dtype,
        BLOCK_P=block_p,
        BLOCK_N=block_n,
        HAS_D=D is not None,
        D_HAS_HDIM=D is not None and D.dim() == 2,
        HAS_Z=z is not None,
        HAS_DT_BIAS=dt_bias is not None,
        DT_SOFTPLUS=bool(dt_softplus),
        HAS_INIT=initial_states is not None,
        HAS_SEQ_IDX=seq_idx is not None,
        STORE_FINAL=final is not None,
        num_warps=num_warps,
        num_stages=num_stages,
    )
    return out, final
