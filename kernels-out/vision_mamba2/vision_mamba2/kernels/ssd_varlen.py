# generated from examples/vision-mamba2.ts by @mamba2/codegen 0.1.0 -- do not edit
# ir-hash: 973d21e2cf8d81c0e01a13580d2634dea1d19fba039c3bddcd8ee47c7c19c7c4
# copied from packages/kernels/python/mamba2_kernels/kernels/ssd_varlen.py
"""Final SSM state of every packed sequence (varlen prefill).

With cu_seqlens = [0, l_1, l_1 + l_2, ..., L] (batch 1, sequences packed along
time), the state at the end of sequence s, started from zero at cu_seqlens[s]:

    S_s = sum_{t in [start, end)} exp(sum_{t < u < end} dt_u A) dt_t x_t B_t^T

One program per (sequence, head, block of headdim) walks its sequence in
chunks of CHUNK positions, keeping S [BLOCK_P, d_state] in fp32 registers:
    cs = cumsum(dt A) over the chunk,  S <- exp(cs_last) S + (x dt exp(cs_last - cs))^T B.
dt arrives already transformed (bias, softplus, clamp: kernels.dt.dt_transform).
"""
from __future__ import annotations

import math

import numpy as np
import torch
import triton
import triton.language as tl

from .fastlaunch import fast_launch
from .dt import dt_transform
from .host import INTERPRETED as _INTERPRETED, cdiv, next_pow2


@fast_launch
@triton.jit
def _ssd_varlen_states_kernel(
    x, dt, A, B, cu, out,
    H, P, N, HEADS_PER_GROUP,
    stride_xl, stride_xh,
    stride_bl, stride_bg,
    MAX_CHUNKS,
    DYNAMIC: tl.constexpr,
    CHUNK: tl.constexpr,
    BLOCK_P: tl.constexpr,
    BLOCK_N: tl.constexpr,
):
    i_s = tl.program_id(0)
    i_h = tl.program_id(1)
    i_p = tl.program_id(2)
    i_g = i_h // HEADS_PER_GROUP
    start = tl.load(cu + i_s)
    end = tl.load(cu + i_s + 1)
    o_p = i_p * BLOCK_P + tl.arange(0, BLOCK_P)
    o_n = tl.arange(0, BLOCK_N)
    m_p = o_p < P
    m_n = o_n < N
    b_A = tl.load(A + i_h).to(tl.float32)
    b_s = tl.zeros((BLOCK_P, BLOCK_N), dtype=tl.float32)
    # compiled: walk [start, end); the interpreter cannot take a loaded value as a
    # range bound, so it walks MAX_CHUNKS chunks from start, the ones past end masked
    if DYNAMIC:
        n_chunks = tl.cdiv(end - start, CHUNK)
    else:
        n_chunks = MAX_CHUNKS
    for i_c in range(0, n_chunks):
        t0 = start + i_c * CHUNK
        o_t = t0 + tl.arange(0, CHUNK)
        m_t = o_t < end
        o_t64 = o_t.to(tl.int64)
        b_dt = tl.load(dt + o_t64 * H + i_h, mask=m_t, other=0.0)
        b_cs = tl.cumsum(b_dt * b_A, axis=0)
        b_last = tl.sum(b_dt * b_A, axis=0)
        b_w = tl.where(m_t, b_dt * tl.exp(b_last - b_cs), 0.0)
        b_x = tl.load(x + o_t64[:, None] * stride_xl + i_h * stride_xh + o_p[None, :],
                      mask=m_t[:, None] & m_p[None, :], other=0.0).to(tl.float32)
        b_B = tl.load(B + o_t64[:, None] * stride_bl + i_g * stride_bg + o_n[None, :],
                      mask=m_t[:, None] & m_n[None, :], other=0.0).to(tl.float32)
        b_s = b_s * tl.exp(b_last) + tl.dot(tl.trans(b_x * b_w[:, None]), b_B, input_precision="ieee")
    p_o = out + ((i_s * H + i_h) * P + o_p[:, None]).to(tl.int64) * N + o_n[None, :]
    tl.store(p_o, b_s, mask=m_p[:, None] & m_n[None, :])


def ssd_varlen_states(x, dt, A, B, cu_seqlens, dt_bias=None, dt_softplus=False,
                      dt_limit=(0.0, math.inf), *, chunk=None, block_p=None, num_warps=4):
    """Final state of each packed sequence.

    x: [1, L, h, p], dt: [1, L, h] (raw), A: [h], B: [1, L, g, n], cu_seqlens:
    [nseq + 1] int32, nondecreasing from 0 to L (validated by varlen.py).
    Returns fp32 [nseq, h, p, n] (contiguous).
    """
    _, L, h, p = x.shape
    g, n = B.shape[2], B.shape[3]
    nseq = cu_seqlens.shape[0] - 1
    out = torch.empty((nseq, h, p, n), device=x.device, dtype=torch.float32)
    if out.numel() == 0:
        return out
    dtp = dt_transform(dt, dt_bias, softplus=dt_softplus, limit=dt_limit)  # fp32 [1, L, h] contiguous
    x = x if x.stride(-1) == 1 else x.contiguous()
    B = B if B.stride(-1) == 1 else B.contiguous()
    block_p = block_p or max(16, min(64, next_pow2(p)))
    block_n = max(16, next_pow2(n))
    chunk = chunk or (64 if x.device.type == "cpu" else 32)
    cu = cu_seqlens.to(torch.int32).contiguous()
    _ssd_varlen_states_kernel[(nseq, h, cdiv(p, block_p))](
        x, dtp, A.contiguous(), B, cu, out,
        h, p, n, h // g,
        x.stride(1), x.stride(2),
        B.stride(1), B.stride(2),
        np.int32(cdiv(L, chunk)) if _INTERPRETED else cdiv(L, chunk),
        DYNAMIC=not _INTERPRETED,
        CHUNK=chunk, BLOCK_P=block_p, BLOCK_N=block_n,
        num_warps=num_warps,
    )
    return out
