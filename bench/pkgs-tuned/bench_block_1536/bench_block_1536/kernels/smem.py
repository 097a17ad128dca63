# generated from bench/models/block-1536.ts by @mamba2/codegen 0.1.0 -- do not edit
# ir-hash: ce276f111d871043363d32dc37007098a1356a3db65f4054f8f567e129ec5a3c
# copied from packages/kernels/python/mamba2_kernels/kernels/smem.py
"""Shared memory of the scan kernels' launches, and launch settings that fit.

Triton refuses a launch whose build needs more shared memory per block than
the device has. The H200 model sweep (bench/sweeps/h200-2026-12-01b: the
generated block at chunk 128, headdim 128, d_state 128, every d_model) stopped
on "OutOfResources: ... shared memory, Required: 245760, Hardware limit:
232448", raised by the v4 backward's chunk kernel (_ssd_bwd_chunk_v4_kernel at
CHUNK 128, BLOCK_P 64, BLOCK_N 128 and Triton's default 3 stages: two buffers
of its x, dout, S and dS loads, 2 x 64 KB, beside B, C, M and x kept as wgmma
operands, 112 KB). The wrappers take tiles and stages from fit_bwd /
fit_fused / fit_chunked: the request when its bound fits the device, else the
first that fits of fewer stages (down to 2), a halved p-block (down to 16), a
halved time tile (down to 16), in that order of preference. None of them changes a result beyond rounding.
Every block_q, headdim, d_state and stage count the model DSL accepts has a
fitting choice, and the defaults keep theirs (tests/test_smem_fit.py).

bound() is an upper bound of Triton's metadata.shared for sm_90 builds:
    (max(stages, 2) - 1) * pipe + live,
pipe = a QP + b QN + c PN + d Q + e (the loop's pipelined loads: stages - 1
buffers each), live = f QP + g QN + h PN + i Q^2 + j Q + k P + l N + m (what
stays live beside them), with Q, P, N the CHUNK, BLOCK_P, BLOCK_N constexprs.
COEF (bytes per unit) is a linear-programming upper envelope of the sm_90
builds in bench/results/2026-12-01c-sm90-smem.csv (scripts/gpu/smem.py, Triton
3.6.0; fit: scripts/gpu/smem_fit.py), one class per kernel, element size (2:
bf16 / fp16, 4: fp32), z and P >= 64; a test holds bound() >= each of them.
Measured bytes (bound), bf16, no z: backward chunk kernel Q128 P64 N128 245760
(245760) at 3 stages, 180224 (180224) at the 2 fit_bwd picks; the default Q32
P64 N128 104448 (104448). fp32 at d_state 256 overflowed at the default Q32
too: 372736 at 3 stages, 225280 at 2. Other GPUs: the same bound against
their own limit (Triton's max_shared_mem), not measured there.
"""
from __future__ import annotations

import functools
import math

import torch

# The H100 / H200 per-block limit (227 KB), used where the device cannot be asked (CPU interpreter).
SM90_SHARED = 232448

_PIPE = ("QP", "QN", "PN", "Q", "1")
_LIVE = ("QP", "QN", "PN", "QQ", "Q", "P", "N", "1")
# tiles that stop growing with CHUNK: chunk_scan's BLOCK_M = min(Q, 64), chunk_state's BLOCK_K = min(Q, 32)
_Q_TILE = {"chunk_scan": 64, "chunk_state": 32}

# (kernel, element bytes, z, P >= 64): (pipe, live) coefficients in _PIPE / _LIVE order
COEF = {
    ('bwd_chunk', 2, 0, 0): ((4, 0.125, 3.875, 0, 405.875), (2.125, 4, 0, 2, 0, 0, 15.875, 5446.875)),  # 70 builds
    ('bwd_chunk', 2, 0, 1): ((4, 0, 4, 0, 0), (2, 4, 0, 2, 0, 0, 0, 0)),  # 69 builds
    ('bwd_chunk', 2, 1, 0): ((6, 0.125, 4, 0, 56.25), (1.5, 4, 0, 4.25, 0, 0, 2, 7154.125)),  # 60 builds
    ('bwd_chunk', 2, 1, 1): ((6, 0, 4, 0, 0), (4, 4, 0, 4, 0, 0, 0, 0)),  # 53 builds
    ('bwd_chunk', 4, 0, 0): ((8, 0, 8, 0, 0), (4, 8, 0, 4, 0, 0, 0, 0)),  # 58 builds
    ('bwd_chunk', 4, 0, 1): ((8, 0, 8, 0, 0), (4, 8, 0, 4, 0, 0, 0, 0)),  # 51 builds
    ('bwd_chunk', 4, 1, 0): ((12, 0.125, 7.75, 0, 0), (12.125, 8, 0, 8, 0, 0, 0, 0)),  # 58 builds
    ('bwd_chunk', 4, 1, 1): ((12, 0.75, 7.75, 0, 0), (8.125, 7.5, 0.375, 12, 0, 0, 0, 0)),  # 46 builds
    ('bwd_walk_fwd', 2, 0, 0): ((2.375, 2, 0, 3.5, 4), (0, 0, 0, 0, 0, 109.75, 9.25, 0)),  # 100 builds
    ('bwd_walk_fwd', 2, 0, 1): ((1.875, 2.125, 0, 0, 1502), (0, 2.125, 0, 0, 0, 120.75, 28, 0)),  # 100 builds
    ('bwd_walk_fwd', 4, 0, 0): ((4.25, 4, 0, 0, 4), (1.375, 0, 0, 0.25, 0, 234.125, 0, 0)),  # 20 builds
    ('bwd_walk_fwd', 4, 0, 1): ((4.125, 4, 0, 0, 4), (3.125, 0, 0, 0.25, 0, 78.125, 0, 0)),  # 20 builds
    ('bwd_walk_rev', 2, 1, 0): ((4.375, 2.125, 0, 0, 0), (0, 0, 0, 0, 0, 17, 10.5, 1088)),  # 120 builds
    ('bwd_walk_rev', 2, 1, 1): ((3.875, 2.125, 0, 0, 250.125), (0, 1.875, 0, 0.125, 0, 2.125, 12.75, 5257.75)),  # 118 builds
    ('bwd_walk_rev', 4, 1, 0): ((8, 4, 0, 4, 0), (4, 4, 0, 0, 0, 0, 0, 0)),  # 63 builds
    ('bwd_walk_rev', 4, 1, 1): ((0, 5.25, 0, 357.125, 1356.75), (0, 5.875, 0, 0.125, 0, 17.25, 0, 0)),  # 48 builds
    ('chunk_scan', 2, 0, 0): ((0, 0, 0, 0, 0), (0, 2, 4, 0, 0, 0, 0, 0)),  # 54 builds
    ('chunk_scan', 2, 0, 1): ((0, 0, 0, 0, 0), (0, 0, 4, 0, 0, 0, 0, 0)),  # 54 builds
    ('chunk_scan', 2, 1, 0): ((0, 0, 0, 0, 0), (0, 2, 4, 0, 0, 0, 0, 0)),  # 38 builds
    ('chunk_scan', 2, 1, 1): ((0.125, 1.125, 0, 0, 0), (0, 0, 3.875, 0, 0, 0, 0, 0)),  # 38 builds
    ('chunk_scan', 4, 0, 0): ((0, 0, 0, 0, 0), (0, 8, 0, 0, 0, 0, 0, 0)),  # 36 builds
    ('chunk_scan', 4, 0, 1): ((0, 0, 0, 0, 0), (0, 4, 3.375, 18.625, 0, 0, 0, 0)),  # 36 builds
    ('chunk_scan', 4, 1, 0): ((0, 0, 0, 0, 0), (0, 8, 0, 0, 0, 0, 0, 0)),  # 36 builds
    ('chunk_scan', 4, 1, 1): ((0, 0, 0, 0, 0), (0, 4, 3.375, 18.625, 0, 0, 0, 0)),  # 36 builds
    ('chunk_state', 2, 0, 0): ((0, 0.25, 0, 2.75, 0), (0, 0.125, 0, 0.125, 0, 64, 54.875, 81.375)),  # 50 builds
    ('chunk_state', 2, 0, 1): ((0, 0, 0, 0, 0), (0, 0, 4, 0, 0, 0, 0, 0)),  # 40 builds
    ('chunk_state', 4, 0, 0): ((0, 4.625, 0, 0, 0), (0, 7, 0, 8.5, 0, 0, 0, 0)),  # 12 builds
    ('chunk_state', 4, 0, 1): ((4, 4, 0, 8, 0), (0, 5.125, 0, 0, 0, 0, 95, 0)),  # 20 builds
    ('fused', 2, 0, 0): ((0, 4, 0, 4, 256), (2, 2, 2, 2, 0.375, 0, 0, 0)),  # 115 builds
    ('fused', 2, 0, 1): ((0, 4, 0, 2.75, 341.375), (2, 4, 2, 2, 0, 0, 0, 0)),  # 117 builds
    ('fused', 2, 1, 0): ((0.125, 4.125, 0.125, 2.875, 0), (1.875, 2, 2, 2, 18.75, 0, 0, 0)),  # 107 builds
    ('fused', 2, 1, 1): ((0.125, 4.125, 0, 2.875, 0), (2, 4, 2, 2, 10.375, 0, 0, 0)),  # 70 builds
    ('fused', 4, 0, 0): ((4.25, 8, 0, 3, 0), (4.25, 4.375, 3.375, 4, 0, 0, 0, 0)),  # 81 builds
    ('fused', 4, 0, 1): ((4.125, 4, 0.375, 0, 0), (3.625, 11.375, 2.375, 4.25, 0, 0, 0, 0)),  # 62 builds
    ('fused', 4, 1, 0): ((4.25, 8, 0, 3, 0), (4.25, 4.375, 3.375, 4, 0, 0, 0, 0)),  # 76 builds
    ('fused', 4, 1, 1): ((4, 4, 0.375, 0, 0), (4, 10.625, 2.25, 4.25, 0, 0, 28.25, 0)),  # 56 builds
    ('fused_T', 2, 0, 0): ((0, 4, 0.125, 19.75, 0), (0, 0.125, 1.875, 4, 4.875, 0, 2.25, 0)),  # 111 builds
    ('fused_T', 2, 0, 1): ((2.375, 3, 0.25, 0, 0), (0, 5, 0, 3.5, 0, 0, 42, 0)),  # 134 builds
    ('fused_T', 2, 1, 0): ((0, 4, 0, 20.125, 0), (0, 0, 2, 4, 4.125, 0, 0, 0)),  # 79 builds
    ('fused_T', 2, 1, 1): ((2.25, 3.75, 0.25, 0, 0), (0, 3.5, 0, 3.625, 0, 14.75, 37.125, 0)),  # 112 builds
    ('fused_T', 4, 0, 0): ((4.75, 8, 0.125, 0, 0), (0, 0, 1, 8, 0, 0, 98.25, 0)),  # 74 builds
    ('fused_T', 4, 0, 1): ((4.75, 3.375, 0.625, 0, 0), (0, 12.75, 2.5, 7.5, 0, 0, 0, 0)),  # 57 builds
    ('fused_T', 4, 1, 0): ((4.75, 8, 0.125, 0, 0), (0, 0, 1, 8, 0, 0, 98.25, 0)),  # 74 builds
    ('fused_T', 4, 1, 1): ((4.75, 3.375, 0.625, 0, 0), (0, 12.75, 2.5, 7.5, 0, 0, 0, 0)),  # 57 builds
    ('state_T', 2, 0, 0): ((2.375, 2, 0, 2.25, 0), (0, 0, 0, 0, 0, 97.25, 24.5, 0)),  # 100 builds
    ('state_T', 2, 0, 1): ((1.75, 2.125, 0, 16.625, 1917.75), (0, 1.25, 0, 0, 0, 100, 163.375, 0)),  # 97 builds
    ('state_T', 4, 0, 0): ((3.625, 4, 0, 0, 1369.375), (0, 0, 0, 0, 0, 256, 0, 0)),  # 20 builds
    ('state_T', 4, 0, 1): ((4.5, 4, 0, 0, 0), (3.125, 2.125, 0, 0.75, 0, 0, 130.125, 0)),  # 27 builds
}


@functools.lru_cache(maxsize=None)
def _cuda_limit(index):
    from triton.compiler.compiler import max_shared_mem

    return max_shared_mem(index)


def shared_limit(device) -> int:
    """Shared memory per block a launch on `device` may use (Triton's check)."""
    if isinstance(device, torch.device) and device.type == "cuda":
        return _cuda_limit(device.index if device.index is not None else torch.cuda.current_device())
    return SM90_SHARED


def _terms(q, p, n):
    return {"QP": q * p, "QN": q * n, "PN": p * n, "QQ": q * q, "Q": q, "P": p, "N": n, "1": 1}


def bound(kernel, q, p, n, stages, elt, z=False):
    """Upper bound (bytes) of `kernel`'s shared memory at CHUNK q, BLOCK_P p,
    BLOCK_N n, `stages` pipeline stages, elt-byte inputs; inf where no build
    was measured (kernel names and classes: COEF)."""
    e = 4 if elt >= 4 else 2
    if kernel == "fused_T" and stages < 2:
        return math.inf  # not measured at 1 stage (another allocation): the fit moves it to 2
    z = 1 if kernel == "bwd_walk_rev" else int(bool(z)) if kernel not in ("bwd_walk_fwd", "state_T", "chunk_state") else 0
    q = min(q, _Q_TILE.get(kernel, q))
    c = COEF.get((kernel, e, z, int(p >= 64)))
    if c is None:
        return math.inf
    t = _terms(q, p, n)
    pipe = sum(a * t[k] for a, k in zip(c[0], _PIPE))
    return (max(stages, 2) - 1) * pipe + sum(a * t[k] for a, k in zip(c[1], _LIVE))


def _halvings(v):
    out = [v]
    while out[-1] > 16:
        out.append(max(16, out[-1] // 2))
    return out


def _fit(q, p, stages, need, limit):
    """The first (q, p, stages) with need(q, p, stages) <= limit, in the order:
    the request; one stage fewer at a time down to 2 (1 goes to 2 only where
    no 1-stage build was measured); p halved down to 16; q halved down to 16."""
    ladder = tuple(range(stages, 1, -1)) if stages >= 2 else (1, 2)
    for bq in _halvings(q):
        for bp in _halvings(p):
            for s in ladder:
                if need(bq, bp, s) <= limit:
                    return bq, bp, s
    raise ValueError(
        f"no launch of CHUNK <= {q}, BLOCK_P <= {p} fits the device's {limit} bytes of shared memory "
        f"(bound at 16 x 16: {need(16, 16, 2):.0f}): use d_state <= 256 (the model DSL's range)")


@functools.lru_cache(maxsize=1024)  # runs on every call of the wrapper
def fit_bwd(block_q, block_p, block_n, elt, z, device, stages=3):
    """(block_q, block_p, stages) for backward v4: both state walks and the
    chunk kernel (one CHUNK and BLOCK_P; stages 3 is Triton's default, what
    they were launched with before)."""
    def need(q, p, s):
        return max(bound("bwd_walk_fwd", q, p, block_n, s, elt), bound("bwd_walk_rev", q, p, block_n, s, elt),
                   bound("bwd_chunk", q, p, block_n, s, elt, z))
    return _fit(block_q, block_p, stages, need, shared_limit(device))


@functools.lru_cache(maxsize=1024)  # runs on every call of the wrapper
def fit_fused(t_path, block_q, block_p, block_n, stages, elt, z, device):
    """(block_q, block_p, stages) for the fused forward: the one-launch kernel,
    or the T walk and (split-L) the segment-state kernel."""
    def need(q, p, s):
        if not t_path:
            return bound("fused", q, p, block_n, s, elt, z)
        return max(bound("fused_T", q, p, block_n, s, elt, z), bound("state_T", q, p, block_n, s, elt))
    return _fit(block_q, block_p, stages, need, shared_limit(device))


@functools.lru_cache(maxsize=1024)  # runs on every call of the wrapper
def fit_chunked(chunk, block_p, block_n, elt, z, device):
    """block_p for the chunked scan (its chunk is the module's chunk_size; the
    state and scan kernels run at Triton's default 3 stages)."""
    def need(q, p, s):
        return max(bound("chunk_state", q, p, block_n, s, elt), bound("chunk_scan", q, p, block_n, s, elt, z))
    limit = shared_limit(device)
    for bp in _halvings(block_p):
        if need(chunk, bp, 3) <= limit:
            return bp
    raise ValueError(f"no chunked-scan p-block fits {limit} bytes of shared memory at chunk_size {chunk}, "
                     f"BLOCK_N {block_n}: use d_state <= 256 (the model DSL's range)")
