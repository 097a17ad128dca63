# generated from examples/vision-mamba2-bidirectional.ts by @mamba2/codegen 0.1.0 -- do not edit
# ir-hash: ecdc1a8c1f3908dbc9b3232a151982a82ea56e47204e629702db577caff5a69c
# copied from packages/kernels/python/mamba2_kernels/kernels/ssd_fused_dispatch.py
"""Launch policy of the fused SSD forward (ssd_fused.ssd_fused_fwd): which of
its two forms runs (one launch vs T+pre), the p-block, the split-L factor and
the T walk's register cap, each from the H200 measurements quoted beside it.
Kept apart from the kernels so the policy can be read (and patched by the
tests that force a path) in one place."""
from __future__ import annotations

import functools
import os

import torch

from .host import cdiv, next_pow2

# CHUNK is only a tile size here: the fused walk gives the same result for any
# chunk length. Register use grows with CHUNK^2 (C B^T and its decay mask). On
# the H200 sweep (bench/sweeps/ssd-h200, headdim 32/64/128, d_state 128, bf16)
# a 32-long tile beat 64 and 128 at every shape: the walk is latency-bound per
# chunk, and the smaller tile spills nothing: LAUNCH.fused.block_q defaults to
# 32. Callers may force it with block_q.
# Programs wanted in flight before the p-block is halved (2 per SM of an H200).
MIN_PROGRAMS = 264


def pick_block_p(p, bh):
    """min(64, next_pow2(p)), halved once to 32 when b*h*p_blocks programs
    would leave SMs idle (the sweep's (1, 16384, 80) shape: 0.95 ms at 32
    against 1.21 ms at 64); at least 16 (tl.dot needs 16 on every side)."""
    bp = max(16, min(64, next_pow2(p)))
    if bp > 32 and cdiv(p, bp) * bh < MIN_PROGRAMS:
        bp = 32
    return bp


# ---- dispatch between the one-launch kernel and T+pre (H200 sweep, bf16,
# headdim 64, d_state 128: bench/results/2026-11-29-h200-ssd-variants.log) ----
# T+pre wins wherever the walk is long: (4, 4096, 80) 0.647 -> 0.313 ms,
# (8, 2048, 64) 0.348 -> 0.264, (4, 4096, 64, g8) 0.360 -> 0.239 (+ split-L:
# (1, 16384, 80) 1.217 -> 0.390). Its pre-kernel launch and two scratch rows cost
# ~0.04 ms flat ((2, 128, 8): 0.022 one launch, 0.028 T alone, 0.07 T+pre), and
# the walk saves ~0.7 us per chunk step ((0.348 - 0.256) ms over 2 waves x 64
# chunks at (8, 2048, 64)): break-even near 60 steps. So T+pre from
# waves * chunks >= PRE_MIN_STEPS, counting waves at 2 programs per SM as the
# one-launch kernel runs (255 registers); below, one launch.
PRE_MIN_STEPS = 64
# T+pre launch defaults (the sweep's best at every large shape): CHUNK 32,
# BLOCK_P 64, 4 warps, 3 stages, registers capped at 168 so 3 programs share an
# SM (uncapped the walk takes 227; sm_90 build spills 32 B at the cap).
# (LAUNCH.fused.t_num_warps / t_num_stages; the register cap only at these)
T_WARPS = 4
T_MAXNREG = 168
T_PROGRAMS_PER_SM = 3
# Split-L only when b * h * p_blocks programs are fewer than the SMs: (4, 4096,
# 64, g8) has 256 programs and split 2 / 4 lost there (0.314 / 0.292 vs 0.239),
# (1, 16384, 80) has 80 and split 4 won (0.390 vs 0.587 split 2, 0.670 none).
# K in {2, 4}: the largest whose programs still fit one resident wave; each
# L-segment keeps at least SPLIT_MIN_SEG_CHUNKS chunks (pass 1 and the combine
# are a fixed cost per segment).
SPLIT_MIN_SEG_CHUNKS = 16
H200_SMS = 132  # used where the device cannot be asked (CPU interpreter)


@functools.lru_cache(maxsize=None)
def _cuda_sm_count(device):
    # asked once per device: this runs on every call of the wrapper
    return torch.cuda.get_device_properties(device).multi_processor_count


def sm_count(device):
    if isinstance(device, torch.device) and device.type == "cuda":
        return _cuda_sm_count(device)
    return H200_SMS


def use_pre(b, h, p, l, block_q, device):
    """True when the T+pre path pays for its extra launch (see PRE_MIN_STEPS)."""
    programs = b * h * cdiv(p, pick_block_p(p, b * h))
    steps = cdiv(programs, 2 * sm_count(device)) * cdiv(l, block_q)
    return steps >= PRE_MIN_STEPS


def pick_split(programs, n_chunks, device):
    """Number of L-segments K in {1, 2, 4} (see SPLIT_MIN_SEG_CHUNKS)."""
    sms = sm_count(device)
    if programs >= sms:
        return 1
    k = 4 if programs * 4 <= T_PROGRAMS_PER_SM * sms else 2
    while k > 1 and cdiv(n_chunks, k) < SPLIT_MIN_SEG_CHUNKS:
        k //= 2
    return k


# ---- the exact re-walk of a flagged program (_ssd_fused_T_kernel, "Two-pass
# fused forward" in NOTES.md) ----
# "call": a noinline function (_rewalk_T). Any call in the kernel makes ptxas
# serialise every wgmma of it (C7510): 12 waits per chunk instead of 3, ~0.45
# us per chunk where an SM holds 1-2 programs (the 64-head BENCH_TARGETS
# shapes, 2026-12-01e/f), a gain at 3 (no spills, the other programs keep the
# tensor cores busy). "inline": the exact walk inlined behind the flag, its
# values kept apart from the plain walk's (see the kernel): the plain loop is
# batched (3 waits), 9/1 spill loads/stores per chunk against old's 8/1
# (sm_90 builds: NOTES "Forward without a call in the walk"). "auto": per
# launch, by the per-chunk times of 2026-12-01e (REWALK_US): the default since
# call28 (H200, fwd_vs_old.py, 5 rounds, ms call / inline): (8, 2048, 64) 0.296 /
# 0.279, g8 0.252 / 0.254 (auto: inline at both), (4, 4096, 80) 0.298 / 0.328,
# (1, 16384, 80) 0.404 / 0.413, seq_idx 0.422 / 0.465 (auto: call at all three).
# MAMBA2_FWD_REWALK forces one (read at import; benches may set REWALK).
REWALK_FORMS = ("call", "inline", "auto")
REWALK = os.environ.get("MAMBA2_FWD_REWALK", "auto")
# us per chunk step by programs per SM (1, 2, 3): serialised (call), batched (.pre-nan's loop)
REWALK_US = {"call": (2.3, 2.3, 2.3), "inline": (1.85, 2.0, 2.5)}


def rewalk_form(programs, device):
    """REWALK, checked; "auto" resolved for a launch of `programs` programs: the
    form with the smaller sum over its waves (T_PROGRAMS_PER_SM per SM, the
    last wave at ceil(left / SMs))."""
    if REWALK not in REWALK_FORMS:
        raise ValueError(f"ssd_fused_dispatch.REWALK (env MAMBA2_FWD_REWALK) is {REWALK!r}; it must be one of "
                         f"{REWALK_FORMS}: set MAMBA2_FWD_REWALK=auto (the default), call or inline")
    if REWALK != "auto":
        return REWALK
    sms = sm_count(device)
    cost = {"call": 0.0, "inline": 0.0}
    left = programs
    while left > 0:
        k = min(T_PROGRAMS_PER_SM, cdiv(left, sms))
        for f in cost:
            cost[f] += REWALK_US[f][k - 1]
        left -= T_PROGRAMS_PER_SM * sms
    return "inline" if cost["inline"] < cost["call"] else "call"


# ---- the plain walk's causal decay mask (_walk_T, EXACT False; NOTES "Exponent mask with a sound flag") ----
# "product" (the default): W = where(m, G * exp2(d) * dt, 0), the exact walk's form. "exponent": W = G *
# exp2(where(m, d, -inf)) * dt, 631a99a's form, whose plain loop built as the old package's (631 vs 633
# instructions, 2026-12-01e): a masked term is then G * 0 * dt, NaN where G = B C^T is not finite (an Inf or
# NaN in C, or a product past fp32's range), which the exact walk drops. So with "exponent" the plain walk
# flags a program on any non-finite output of its intra-chunk + carried sum, per chunk (a NaN in masked
# W[j, i] makes column i of the dot x^T W NaN in every row), instead of on its end state: that test sees
# every input the two forms treat differently (x, B, dt, C, the start state).
# Measured (H200, 2026-12-02d call37, scripts/gpu/fwd_vs_old.py, 5 rounds, ms, exponent / product): (8, 2048,
# 64) 0.278 / 0.283, g8 0.245 / 0.252 (both with the inlined re-walk), (1, 16384, 80) 0.394 / 0.402, (4, 4096,
# 80) 0.302 / 0.298, seq_idx 0.426 / 0.421 (called re-walk). "auto" (the default) takes "exponent" where the
# re-walk is inlined (rewalk_form "inline": the two 64-head shapes, -2-3%, consistent over rounds) and
# "product" elsewhere (the called form, where the per-chunk check costs more than the mask saves, +1% at two
# of its three shapes). MAMBA2_FWD_MASK forces one (read at import; benches may set MASK).
MASK_FORMS = ("auto", "product", "exponent")
MASK = os.environ.get("MAMBA2_FWD_MASK", "auto")


def mask_exponent(rewalk):
    """True when the plain walk masks the exponent (MASK, checked; "auto": with the inlined re-walk)."""
    if MASK not in MASK_FORMS:
        raise ValueError(f"ssd_fused_dispatch.MASK (env MAMBA2_FWD_MASK) is {MASK!r}; it must be one of "
                         f"{MASK_FORMS}: set MAMBA2_FWD_MASK=auto (the default), product or exponent")
    return MASK == "exponent" or (MASK == "auto" and rewalk == "inline")
