# generated from examples/mamba2-grouped.ts by @mamba2/codegen 0.1.0 -- do not edit
# ir-hash: fa85730bebae7a2c030b64c97ed7741c55b246df197a541c883097db096c1c1a
# copied from packages/kernels/python/mamba2_kernels/kernels/ssd_fused_dispatch.py
"""Launch policy of the fused SSD forward (ssd_fused.ssd_fused_fwd): which of
its two forms runs (one launch vs T+pre), the p-block, the split-L factor and
the T walk's register cap, each from the H200 measurements quoted beside it.
Kept apart from the kernels so the policy can be read (and patched by the
tests that force a path) in one place."""
from __future__ import annotations

import functools

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


# ---- where the exact re-walk of flagged programs runs (_ssd_fused_T_kernel) ----
# "call": in the walk's own launch, as a called (not inlined) function. Any call in a
# kernel makes sm_90's ptxas serialize every wgmma of it (info C7510: "wgmma pipeline
# crossing function boundary"): the walk's 12 HGMMAs per chunk each wait for the one
# before instead of issuing in 3 batches (scripts/gpu/fwd_launches.py --build --sass).
# That is latency per chunk, hidden while 3 programs share an SM, exposed below: the
# call form has no spills (0 B in its loop) and is the faster one at 3 per SM.
# "launch": the plain walk alone (no call: batched wgmma, 56 B of spills as .pre-nan's),
# then a second launch in which only the flagged programs walk, exactly (the others read
# their flag and exit). Per-chunk times on the H200 (bf16, P 64, N 128, CHUNK 32, 168
# registers; nan_cost runs of 2026-12-01c/d/e, t = ms / chunks per program):
# call 2.3 us at 1, 2 or 3 programs per SM ((4, 4096, 80) 0.300 ms / 128 chunks, 3 per SM;
# (8, 2048, 64) 0.295 / 64 = 3 per SM then a 1-per-SM tail); launch (= .pre-nan's walk)
# 1.85 / 2.0 / 2.5 us at 1 / 2 / 3 ((8, 2048, 64) 0.280, g8 0.254-0.256, (4, 4096, 80)
# 0.320-0.327). pick_rerun sums them over the grid's waves (3 programs per SM, the last
# wave breadth-first: ceil(r / SMs) per SM) plus RERUN_LAUNCH_FIXED_US for the second
# launch (~512 programs that exit), and takes the cheaper; and only where the walk takes
# over RERUN_HOST_US in the call form: below, the call is host-bound (~100 us of Python and
# launches per call, host_overhead.py) and a third launch would add its host time (~20 us).
# Only where the per-chunk times were measured:
# sm_90 (wgmma), the default T launch (CHUNK 32, BLOCK_P 64, 4 warps, 168 registers);
# elsewhere "call" (no wgmma to serialize: one launch is cheaper). RERUN_FORM forces one.
# NOT yet measured as a policy: scripts/gpu/call16.sh times both forced forms and auto.
RERUN_FORM = "auto"  # "auto" | "call" | "launch"
RERUN_CALL_US = 2.3
RERUN_LAUNCH_US = (1.85, 2.0, 2.5)  # 1, 2, 3 programs per SM
RERUN_LAUNCH_FIXED_US = 5.0
RERUN_HOST_US = 200.0


@functools.lru_cache(maxsize=None)
def _cuda_wgmma(device):
    return torch.cuda.get_device_capability(device)[0] == 9


def has_wgmma(device):
    """True on an sm_90 GPU (Hopper: the walk's dots are wgmma)."""
    return isinstance(device, torch.device) and device.type == "cuda" and _cuda_wgmma(device)


def pick_rerun(programs, chunks, device, measured_config):
    """'call' or 'launch' for a plain walk of `programs` programs of `chunks`
    chunks each (see RERUN_FORM)."""
    if RERUN_FORM != "auto":
        return RERUN_FORM
    if not measured_config or not has_wgmma(device):
        return "call"
    sms = sm_count(device)
    slots = T_PROGRAMS_PER_SM * sms
    full, rest = divmod(programs, slots)
    if rest == 0:
        full, rest = full - 1, slots
    per_sm = min(T_PROGRAMS_PER_SM, cdiv(rest, sms))
    call = (full + 1) * RERUN_CALL_US * chunks
    launch = (full * RERUN_LAUNCH_US[-1] + RERUN_LAUNCH_US[per_sm - 1]) * chunks + RERUN_LAUNCH_FIXED_US
    return "launch" if call > RERUN_HOST_US and launch < call else "call"
