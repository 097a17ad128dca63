# generated from examples/mamba2-stateful.ts by @mamba2/codegen 0.1.0 -- do not edit
# ir-hash: 28c133f5208b79443bad7b2823c4e58c73662dcc204c1fd05b08cd746e622021
# copied from packages/kernels/python/mamba2_kernels/kernels/ssd_chunked.py
"""Multi-launch chunked SSD scan (the unfused path and the second baseline).

Four kernels, in launch order:
  1. _chunk_dt_kernel       per (chunk, h, b): dt transform, cs = cumsum(dt * A)
                            over the chunk, and (with seq_idx) a segment id per
                            position = number of seq_idx changes so far in the chunk.
  2. _chunk_state_kernel    per (p-block x chunk, h, b): S_c = sum_j exp(cs_end - cs_j)
                            dt_j x_j B_j^T over the chunk's last segment.
  3. _state_passing_kernel  per (p*n block, h, b): walks the chunks in order,
                            S_in(c+1) = exp(cs_end(c)) S_in(c) [no reset in c] + S_c.
  4. _chunk_scan_kernel     per (m-block x p-block x chunk, h, b): y = intra-chunk
                            ((C B^T) o L o dt) x + exp(cs_i) C S_in^T, + D x, * silu(z).
cs is kept in log2 units (dt * A * log2 e, ssd_common.dt_prologue) and decays
are exp2 of differences, as in the fused kernels.
"""
from __future__ import annotations

import math

import torch
import triton
import triton.language as tl

from .fastlaunch import fast_launch
from .._config import LAUNCH
from .host import INTERPRETED as _INTERPRETED
from .host import cdiv, check_chunk_size, dot_precision, dt_chain_for, limit_pair, next_pow2, scan_epilogue_for
from .smem import fit_chunked
from .ssd_common import LOG2E, carry_state, dt_prologue, segment_ids, x_finite


@fast_launch
@triton.jit
def _chunk_dt_kernel(
    dt, dt_bias, A, seq_idx,
    dt_out, cs_out, seg_out,
    L, H, NCHUNKS,
    stride_db, stride_dl, stride_dh,
    stride_sb, stride_sl,
    lo, hi,
    CHUNK: tl.constexpr,
    HAS_DT_BIAS: tl.constexpr,
    DT_SOFTPLUS: tl.constexpr,
    HAS_SEQ_IDX: tl.constexpr,
    DT_CHAIN: tl.constexpr,
):
    i_c = tl.program_id(0)
    i_h = tl.program_id(1)
    i_b = tl.program_id(2).to(tl.int64)
    o_q = tl.arange(0, CHUNK)
    o_t = i_c.to(tl.int64) * CHUNK + o_q
    m_t = o_t < L

    b_dt = tl.load(dt + i_b * stride_db + o_t * stride_dl + i_h * stride_dh, mask=m_t, other=0.0).to(tl.float32)
    if HAS_DT_BIAS:
        b_bias = tl.load(dt_bias + i_h).to(tl.float32)
    else:
        b_bias = 0.0
    b_a = tl.load(A + i_h).to(tl.float32) * LOG2E
    if HAS_SEQ_IDX:
        b_seg, _ = segment_ids(seq_idx + i_b * stride_sb, stride_sl, o_t, m_t)
    else:
        b_seg = 0
    # padding past L: dt = 0 keeps cs flat, so cs[CHUNK - 1] is the chunk's end
    b_dt, b_cs = dt_prologue(b_dt, b_bias, b_a, m_t, lo, hi, b_seg, DT_CHAIN, HAS_DT_BIAS, DT_SOFTPLUS, HAS_SEQ_IDX)

    o_out = ((i_b * H + i_h) * NCHUNKS + i_c) * CHUNK + o_q
    tl.store(dt_out + o_out, b_dt)
    tl.store(cs_out + o_out, b_cs)

    if HAS_SEQ_IDX:
        if i_h == 0:
            tl.store(seg_out + (i_b * NCHUNKS + i_c) * CHUNK + o_q, b_seg)


@fast_launch
@triton.jit
def _chunk_state_kernel(
    x, B, dt_in, cs_in, seg_in, states,
    L, H, P, N, NCHUNKS, HEADS_PER_GROUP,
    stride_xb, stride_xl, stride_xh, stride_xp,
    stride_Bb, stride_Bl, stride_Bg, stride_Bn,
    CHUNK: tl.constexpr,
    HAS_SEQ_IDX: tl.constexpr,
    DOT_PRECISION: tl.constexpr,
    BLOCK_P: tl.constexpr,
    BLOCK_N: tl.constexpr,
    BLOCK_K: tl.constexpr,
):
    n_p = tl.cdiv(P, BLOCK_P)
    i_c = tl.program_id(0) // n_p
    i_p = tl.program_id(0) % n_p
    i_h = tl.program_id(1)
    i_b = tl.program_id(2).to(tl.int64)
    i_g = i_h // HEADS_PER_GROUP

    o_p = i_p * BLOCK_P + tl.arange(0, BLOCK_P)
    o_n = tl.arange(0, BLOCK_N)
    m_p = o_p < P
    m_n = o_n < N
    o_chunk = ((i_b * H + i_h) * NCHUNKS + i_c) * CHUNK
    b_cs_end = tl.load(cs_in + o_chunk + CHUNK - 1)
    if HAS_SEQ_IDX:
        o_seg = (i_b * NCHUNKS + i_c) * CHUNK
        b_seg_end = tl.load(seg_in + o_seg + CHUNK - 1)

    p_x = x + i_b * stride_xb + i_h * stride_xh
    p_B = B + i_b * stride_Bb + i_g * stride_Bg
    b_acc = tl.zeros((BLOCK_P, BLOCK_N), dtype=tl.float32)
    for k in range(0, CHUNK, BLOCK_K):
        o_q = k + tl.arange(0, BLOCK_K)
        o_t = i_c.to(tl.int64) * CHUNK + o_q
        m_t = o_t < L
        b_xT = tl.load(p_x + o_p[:, None] * stride_xp + o_t[None, :] * stride_xl,
                       mask=m_p[:, None] & m_t[None, :], other=0.0)
        b_B = tl.load(p_B + o_t[:, None] * stride_Bl + o_n[None, :] * stride_Bn,
                      mask=m_t[:, None] & m_n[None, :], other=0.0)
        b_dt = tl.load(dt_in + o_chunk + o_q)
        b_cs = tl.load(cs_in + o_chunk + o_q)
        b_scale = tl.exp2(b_cs_end - b_cs) * b_dt
        if HAS_SEQ_IDX:
            # only the chunk's last segment carries into the state (tl.where on
            # x too: 0 * NaN is NaN, and no NaN of an earlier sequence may pass)
            m_last_seg = tl.load(seg_in + o_seg + o_q) == b_seg_end
            b_xT = tl.where(m_last_seg[None, :], b_xT, 0.0)
        b_Bs = b_B.to(tl.float32) * b_scale[:, None]
        if HAS_SEQ_IDX:  # on the product: a NaN/Inf in B or dt of an earlier sequence
            b_Bs = tl.where(m_last_seg[:, None], b_Bs, 0.0)
        b_Bs = b_Bs.to(b_xT.dtype)
        b_acc += tl.dot(b_xT, b_Bs, input_precision=DOT_PRECISION)

    o_s = (((i_b * NCHUNKS + i_c) * H + i_h) * P + o_p[:, None]) * N + o_n[None, :]
    tl.store(states + o_s, b_acc, mask=m_p[:, None] & m_n[None, :])


@fast_launch
@triton.jit
def _state_passing_kernel(
    states, cs_in, seg_in, init, final,
    H, PN, NCHUNKS,
    CHUNK: tl.constexpr,
    HAS_INIT: tl.constexpr,
    HAS_SEQ_IDX: tl.constexpr,
    BLOCK_PN: tl.constexpr,
):
    i_pn = tl.program_id(0)
    i_h = tl.program_id(1)
    i_b = tl.program_id(2).to(tl.int64)
    o_pn = i_pn * BLOCK_PN + tl.arange(0, BLOCK_PN)
    m_pn = o_pn < PN

    if HAS_INIT:
        b_S = tl.load(init + (i_b * H + i_h) * PN + o_pn, mask=m_pn, other=0.0).to(tl.float32)
    else:
        b_S = tl.zeros((BLOCK_PN,), dtype=tl.float32)
    # a while loop, not range(NCHUNKS): Triton's interpreter cannot iterate over
    # a runtime scalar argument under NumPy 2 (it is a 1-element array there)
    c = 0
    while c < NCHUNKS:
        # states[c] holds S_c on entry and is overwritten with S_in(c)
        p_s = states + ((i_b * NCHUNKS + c) * H + i_h) * PN + o_pn
        b_Sc = tl.load(p_s, mask=m_pn, other=0.0)
        tl.store(p_s, b_S, mask=m_pn)
        b_decay = tl.load(cs_in + ((i_b * H + i_h) * NCHUNKS + c) * CHUNK + CHUNK - 1)
        if HAS_SEQ_IDX:
            m_reset = tl.load(seg_in + (i_b * NCHUNKS + c) * CHUNK + CHUNK - 1) != 0
        else:
            m_reset = False
        b_S = carry_state(b_S, b_decay, b_Sc, m_reset)
        c += 1
    tl.store(final + (i_b * H + i_h) * PN + o_pn, b_S, mask=m_pn)


@fast_launch
@triton.jit
def _chunk_scan_kernel(
    x, B, C, z, D, dt_in, cs_in, seg_in, states, out,
    L, H, P, N, NCHUNKS, HEADS_PER_GROUP,
    stride_xb, stride_xl, stride_xh, stride_xp,
    stride_Bb, stride_Bl, stride_Bg, stride_Bn,
    stride_Cb, stride_Cl, stride_Cg, stride_Cn,
    stride_zb, stride_zl, stride_zh, stride_zp,
    CHUNK: tl.constexpr,
    HAS_D: tl.constexpr,
    D_PER_CHANNEL: tl.constexpr,
    HAS_Z: tl.constexpr,
    HAS_SEQ_IDX: tl.constexpr,
    DOT_PRECISION: tl.constexpr,
    BLOCK_M: tl.constexpr,
    BLOCK_K: tl.constexpr,
    BLOCK_P: tl.constexpr,
    BLOCK_N: tl.constexpr,
    SCAN_EPILOGUE: tl.constexpr,
):
    n_p = tl.cdiv(P, BLOCK_P)
    n_m: tl.constexpr = CHUNK // BLOCK_M
    i_c = tl.program_id(0) // (n_p * n_m)
    i_mp = tl.program_id(0) % (n_p * n_m)
    i_m = i_mp // n_p
    i_p = i_mp % n_p
    i_h = tl.program_id(1)
    i_b = tl.program_id(2).to(tl.int64)
    i_g = i_h // HEADS_PER_GROUP

    o_i = i_m * BLOCK_M + tl.arange(0, BLOCK_M)
    o_ti = i_c.to(tl.int64) * CHUNK + o_i
    m_i = o_ti < L
    o_p = i_p * BLOCK_P + tl.arange(0, BLOCK_P)
    m_p = o_p < P
    o_n = tl.arange(0, BLOCK_N)
    m_n = o_n < N
    o_chunk = ((i_b * H + i_h) * NCHUNKS + i_c) * CHUNK
    if HAS_SEQ_IDX:
        o_seg = (i_b * NCHUNKS + i_c) * CHUNK
        b_seg_i = tl.load(seg_in + o_seg + o_i)

    p_x = x + i_b * stride_xb + i_h * stride_xh
    p_B = B + i_b * stride_Bb + i_g * stride_Bg
    b_C = tl.load(C + i_b * stride_Cb + i_g * stride_Cg + o_ti[:, None] * stride_Cl + o_n[None, :] * stride_Cn,
                  mask=m_i[:, None] & m_n[None, :], other=0.0)
    b_cs_i = tl.load(cs_in + o_chunk + o_i)

    # inter-chunk: exp(cs_i) C_i S_in^T, for positions before the chunk's first reset
    p_S = states + (((i_b * NCHUNKS + i_c) * H + i_h) * P + o_p[None, :]) * N + o_n[:, None]
    b_ST = tl.load(p_S, mask=m_n[:, None] & m_p[None, :], other=0.0).to(b_C.dtype)
    b_acc = tl.dot(b_C, b_ST, input_precision=DOT_PRECISION) * tl.exp2(b_cs_i)[:, None]
    if HAS_SEQ_IDX:  # tl.where, not * 0: a NaN state of the previous sequence stays there
        b_acc = tl.where((b_seg_i == 0)[:, None], b_acc, 0.0)

    # intra-chunk: ((C B^T) o L o dt_j) x, causal and within one segment
    # static trip count (see _state_passing_kernel on runtime bounds); blocks
    # wholly above the diagonal are skipped. The dot reads non-finite x as 0
    # (0 * NaN would reach earlier rows and other sequences): b_first (the
    # first non-finite row of each column) or, with seq_idx, b_nbad (how many
    # non-finite x each output's mask row meets) put them back where the
    # recurrence has them (ssd_common.nonfinite_rows, blockwise).
    if HAS_SEQ_IDX:
        b_nbad = tl.zeros((BLOCK_M, BLOCK_P), dtype=tl.float32)
    else:
        b_first = tl.full((BLOCK_P,), CHUNK, dtype=tl.int32)
    for k in range(0, CHUNK, BLOCK_K):
        if k < (i_m + 1) * BLOCK_M:
            o_j = k + tl.arange(0, BLOCK_K)
            o_tj = i_c.to(tl.int64) * CHUNK + o_j
            m_j = o_tj < L
            b_BT = tl.load(p_B + o_tj[None, :] * stride_Bl + o_n[:, None] * stride_Bn,
                           mask=m_n[:, None] & m_j[None, :], other=0.0)
            b_G = tl.dot(b_C, b_BT, input_precision=DOT_PRECISION)
            b_cs_j = tl.load(cs_in + o_chunk + o_j)
            b_dt_j = tl.load(dt_in + o_chunk + o_j)
            m_ij = o_i[:, None] >= o_j[None, :]
            if HAS_SEQ_IDX:
                b_seg_j = tl.load(seg_in + o_seg + o_j)
                m_ij = m_ij & (b_seg_i[:, None] == b_seg_j[None, :])
            b_G = tl.where(m_ij, b_G * tl.exp2(b_cs_i[:, None] - b_cs_j[None, :]) * b_dt_j[None, :], 0.0)
            b_x = tl.load(p_x + o_tj[:, None] * stride_xl + o_p[None, :] * stride_xp,
                          mask=m_j[:, None] & m_p[None, :], other=0.0)
            m_xfin = x_finite(b_x)
            if HAS_SEQ_IDX:
                b_nbad += tl.dot(m_ij.to(b_x.dtype), (~m_xfin).to(b_x.dtype), input_precision=DOT_PRECISION)
            else:
                b_first = tl.minimum(b_first, tl.min(tl.where(m_xfin, CHUNK, o_j[:, None]), axis=0))
            b_x = tl.where(m_xfin, b_x, 0.0)
            b_acc += tl.dot(b_G.to(b_x.dtype), b_x, input_precision=DOT_PRECISION)
    if HAS_SEQ_IDX:
        b_acc = tl.where(b_nbad > 0, float("nan"), b_acc)
    else:
        b_acc = tl.where(o_i[:, None] >= b_first[None, :], float("nan"), b_acc)

    m_out = m_i[:, None] & m_p[None, :]
    # epilogue (fragment): D skip, z gate
    if HAS_D:
        b_xi = tl.load(p_x + o_ti[:, None] * stride_xl + o_p[None, :] * stride_xp, mask=m_out, other=0.0).to(tl.float32)
        if D_PER_CHANNEL:
            b_D = tl.load(D + i_h * P + o_p, mask=m_p, other=0.0).to(tl.float32)[None, :]
        else:
            b_D = tl.load(D + i_h).to(tl.float32)
    else:
        b_xi = 0.0
        b_D = 0.0
    if HAS_Z:
        b_z = tl.load(z + i_b * stride_zb + i_h * stride_zh + o_ti[:, None] * stride_zl + o_p[None, :] * stride_zp,
                      mask=m_out, other=0.0).to(tl.float32)
    else:
        b_z = 0.0
    b_acc = SCAN_EPILOGUE(b_acc, b_xi, b_D, b_z, HAS_D, HAS_Z)
    p_out = out + ((i_b * L + o_ti[:, None]) * H + i_h) * P + o_p[None, :]
    tl.store(p_out, b_acc.to(out.dtype.element_ty), mask=m_out)


def ssd_chunked_fwd(x, dt, A, B, C, chunk_size=LAUNCH.chunked.chunk_size, D=None, z=None, dt_bias=None,
                    initial_states=None, seq_idx=None, dt_softplus=False, dt_limit=(0.0, math.inf),
                    return_final_states=False, *, num_warps=None, dt_chain=None, epilogue=None):
    """Chunked SSD scan in four launches.

    x: [b, l, h, p], dt: [b, l, h] (raw; dt_bias/softplus/dt_limit applied inside),
    A: [h], B, C: [b, l, g, n] (h % g == 0; head i uses group i // (h/g)),
    D: [h] | [h, p] | None, z: [b, l, h, p] | None, dt_bias: [h] | None,
    initial_states: [b, h, p, n] | None, seq_idx: [b, l] int | None (the state
    resets wherever it changes from t-1 to t). Any strides (last dims unit-stride
    is fastest). chunk_size: a power of two >= 16.
    dt_chain, epilogue: fragments to use instead of the chosen ones (host.py).
    Returns (out [b, l, h, p] contiguous in x's dtype, final_states fp32
    [b, h, p, n] if return_final_states else None).
    """
    if x.dim() != 4:
        raise ValueError(f"x must be [b, l, h, p], got shape {tuple(x.shape)}")
    bsz, L, H, P = x.shape
    if B.dim() != 4 or B.shape[:2] != (bsz, L) or C.shape != B.shape:
        raise ValueError(f"B and C must be [{bsz}, {L}, g, n], got {tuple(B.shape)} and {tuple(C.shape)}")
    G, N = B.shape[2], B.shape[3]
    if H % G != 0:
        raise ValueError(f"nheads {H} is not a multiple of ngroups {G}")
    if dt.shape != (bsz, L, H):
        raise ValueError(f"dt must be [{bsz}, {L}, {H}], got {tuple(dt.shape)}")
    if A.shape != (H,):
        raise ValueError(f"A must be [{H}], got {tuple(A.shape)}")
    check_chunk_size(chunk_size)
    Q = chunk_size
    if D is not None and D.shape not in ((H,), (H, P)):
        raise ValueError(f"D must be [{H}] or [{H}, {P}], got {tuple(D.shape)}")
    if z is not None and z.shape != x.shape:
        raise ValueError(f"z must have x's shape {tuple(x.shape)}, got {tuple(z.shape)}")
    if dt_bias is not None and dt_bias.shape != (H,):
        raise ValueError(f"dt_bias must be [{H}], got {tuple(dt_bias.shape)}")
    if initial_states is not None and initial_states.shape != (bsz, H, P, N):
        raise ValueError(f"initial_states must be [{bsz}, {H}, {P}, {N}], got {tuple(initial_states.shape)}")
    if seq_idx is not None and seq_idx.shape != (bsz, L):
        raise ValueError(f"seq_idx must be [{bsz}, {L}], got {tuple(seq_idx.shape)}")

    dev = x.device
    out = torch.empty((bsz, L, H, P), device=dev, dtype=x.dtype)
    final = torch.empty((bsz, H, P, N), device=dev, dtype=torch.float32) if return_final_states else None
    if bsz == 0 or H == 0 or P == 0:
        return out, final
    if L == 0:
        if final is not None:
            final.copy_(initial_states if initial_states is not None else torch.zeros_like(final))
        return out, final

    A = A.contiguous()
    D = D.contiguous() if D is not None else None
    dt_bias = dt_bias.contiguous() if dt_bias is not None else None
    init = initial_states.to(torch.float32).contiguous() if initial_states is not None else None
    lo, hi = limit_pair(dt_limit)
    nchunks = cdiv(L, Q)
    f32 = dict(device=dev, dtype=torch.float32)
    dt_c = torch.empty((bsz, H, nchunks, Q), **f32)
    cs_c = torch.empty((bsz, H, nchunks, Q), **f32)
    seg = torch.empty((bsz, nchunks, Q), device=dev, dtype=torch.int32) if seq_idx is not None else dt_c
    states = torch.empty((bsz, nchunks, H, P, N), **f32)
    final_buf = final if final is not None else torch.empty((bsz, H, P, N), **f32)

    if B.dtype != x.dtype or C.dtype != x.dtype:
        # tl.dot takes operands of one dtype
        B, C = B.to(x.dtype), C.to(x.dtype)
    if _INTERPRETED and x.dtype == torch.bfloat16:
        # the interpreter's bf16 tl.dot multiplies raw bit patterns: widen the
        # (already bf16-rounded) operands to fp32 there; compiled kernels keep bf16
        x, B, C = x.float(), B.float(), C.float()
    warps = num_warps or LAUNCH.chunked.num_warps
    BLOCK_N = max(16, next_pow2(N))
    BLOCK_P = LAUNCH.chunked.block_p or min(64, max(16, next_pow2(P)))
    BLOCK_P = fit_chunked(Q, BLOCK_P, BLOCK_N, out.element_size(), z is not None, dev)  # shared memory (smem.py)
    BLOCK_M = min(Q, 64)
    # B^T's [BLOCK_N, BLOCK_K] tile sits next to C's [BLOCK_M, BLOCK_N]: with
    # d_state >= 128 on fewer than 8 warps, K = 64 spills registers on sm_90
    # and K = 64 with bf16 operands gave wrong chunk-scan outputs on the H200
    # (Triton 3.6; P 32, N 64: rel err 0.45, then an illegal address), while
    # K = 32 passed every bf16 check: keep K at 32
    BLOCK_K = min(Q, 32)
    precision = dot_precision(x.dtype)
    sq = seq_idx if seq_idx is not None else dt

    _chunk_dt_kernel[(nchunks, H, bsz)](
        dt, dt_bias if dt_bias is not None else A, A, sq,
        dt_c, cs_c, seg,
        L, H, nchunks,
        dt.stride(0), dt.stride(1), dt.stride(2),
        sq.stride(0), sq.stride(1),
        lo, hi,
        CHUNK=Q,
        HAS_DT_BIAS=dt_bias is not None,
        DT_SOFTPLUS=bool(dt_softplus),
        HAS_SEQ_IDX=seq_idx is not None,
        DT_CHAIN=dt_chain_for(dt_bias is not None, dt_softplus, dt_chain),
    )
    _chunk_state_kernel[(nchunks * cdiv(P, BLOCK_P), H, bsz)](
        x, B, dt_c, cs_c, seg, states,
        L, H, P, N, nchunks, H // G,
        x.stride(0), x.stride(1), x.stride(2), x.stride(3),
        B.stride(0), B.stride(1), B.stride(2), B.stride(3),
        CHUNK=Q,
        HAS_SEQ_IDX=seq_idx is not None,
        DOT_PRECISION=precision,
        BLOCK_P=BLOCK_P,
        BLOCK_N=BLOCK_N,
        BLOCK_K=BLOCK_K,
        num_warps=warps,
    )
    BLOCK_PN = min(1024, next_pow2(P * N))
    _state_passing_kernel[(cdiv(P * N, BLOCK_PN), H, bsz)](
        states, cs_c, seg, init if init is not None else states, final_buf,
        H, P * N, nchunks,
        CHUNK=Q,
        HAS_INIT=init is not None,
        HAS_SEQ_IDX=seq_idx is not None,
        BLOCK_PN=BLOCK_PN,
    )
    zz = z if z is not None else x
    _chunk_scan_kernel[(nchunks * (Q // BLOCK_M) * cdiv(P, BLOCK_P), H, bsz)](
        x, B, C, zz, D if D is not None else A, dt_c, cs_c, seg, states, out,
        L, H, P, N, nchunks, H // G,
        x.stride(0), x.stride(1), x.stride(2), x.stride(3),
        B.stride(0), B.stride(1), B.stride(2), B.stride(3),
        C.stride(0), C.stride(1), C.stride(2), C.stride(3),
        zz.stride(0), zz.stride(1), zz.stride(2), zz.stride(3),
        CHUNK=Q,
        HAS_D=D is not None,
        D_PER_CHANNEL=D is not None and D.dim() == 2,
        HAS_Z=z is not None,
        HAS_SEQ_IDX=seq_idx is not None,
        DOT_PRECISION=precision,
        BLOCK_M=BLOCK_M,
        BLOCK_K=BLOCK_K,
        BLOCK_P=BLOCK_P,
        BLOCK_N=BLOCK_N,
        SCAN_EPILOGUE=scan_epilogue_for(D is not None, z is not None, epilogue),
        num_warps=warps,
    )
    return out, final
