"""A NaN or Inf in the scan's inputs stays where the sequential recurrence
puts it: from its time on, within its own sequence (seq_idx), and (for x)
in its own head and channel. Outputs that do not depend on the bad element
must be finite and equal the float64 reference (ref_scan) of the same
inputs with that element made finite; the outputs that do depend on it must
be non-finite. Runs on every fused path and the chunked kernels (the `impl`
fixture), chunk 16, so the cases hit chunk starts and mid-chunk positions.

Tolerance: ||out - ref|| / ||ref|| over the finite outputs, 1e-4 on CPU
(exact fp32 dots), 2e-3 on CUDA (tf32).
"""
from __future__ import annotations

import math

import pytest
import torch

from mamba2_runner.pkgload import select_device
from mamba2_runner.reference.scan import ref_scan
from mamba2_runner.checks import rel_err

DEVICE = select_device()

import mamba2_kernels  # noqa: E402

TOL = 1e-4 if DEVICE == "cpu" else 2e-3
Q = 16  # chunk (and tile) length of every path here
L = 64


def _inputs(device, seq_starts):
    b, h, p, g, n = 1, 2, 16, 1, 16
    x = torch.randn(b, L, h, p, device=device)
    dt = torch.rand(b, L, h, device=device) * 0.2 + 0.005
    A = -torch.exp(torch.empty(h, device=device).uniform_(math.log(0.05), math.log(2.0)))
    B = torch.randn(b, L, g, n, device=device)
    C = torch.randn(b, L, g, n, device=device)
    seq = torch.zeros(b, L, dtype=torch.int32, device=device)
    for t in seq_starts:
        seq[:, t:] += 1
    kw = dict(D=torch.randn(h, device=device), z=torch.randn(b, L, h, p, device=device), seq_idx=seq)
    return (x, dt, A, B, C), kw


def _check(impl, args, kw, clean_args, dependent, final_dependent):
    out, final = mamba2_kernels.mamba_chunk_scan_combined(
        *args, Q, **kw, return_final_states=True, impl=impl)
    bad = ~torch.isfinite(out)
    wrong_nan = (bad & ~dependent).nonzero().tolist()
    assert not wrong_nan, f"non-finite outputs that do not depend on the bad input (b, t, h, p): {wrong_nan[:8]}"
    missing = (~bad & dependent).nonzero().tolist()
    assert not missing, f"finite outputs that depend on the bad input (b, t, h, p): {missing[:8]}"
    ref, ref_final = ref_scan(*clean_args, **kw, return_final_states=True)
    keep = ~dependent
    err = rel_err(out[keep], ref[keep])
    assert err <= TOL, f"outputs that do not depend on the bad input: rel err {err:.2e} > {TOL:.0e}"
    fbad = ~torch.isfinite(final)
    assert torch.equal(fbad, final_dependent), "final_states: non-finite exactly where the bad input reaches"
    if (~final_dependent).any():
        assert rel_err(final[~final_dependent], ref_final[~final_dependent]) <= TOL


def test_a_nan_in_x_at_a_chunk_start_stays_in_its_head_channel_and_sequence(device, impl):
    # sequences [0, 40) and [40, 64): the change is inside the chunk [32, 48)
    args, kw = _inputs(device, [40])
    x = args[0]
    t0, h0, p0 = 16, 1, 3
    clean = (x.clone(),) + args[1:]
    x[0, t0, h0, p0] = float("nan")
    dependent = torch.zeros_like(x, dtype=torch.bool)
    dependent[0, t0:40, h0, p0] = True
    final_dependent = torch.zeros(1, 2, 16, 16, dtype=torch.bool, device=device)
    _check(impl, args, kw, clean, dependent, final_dependent)


def test_an_inf_in_dt_mid_chunk_reaches_only_its_head_from_its_time_to_the_sequence_end(device, impl):
    # dt = inf at t 21 (inside the chunk [16, 32)); the next sequence starts at 48
    args, kw = _inputs(device, [48])
    dt = args[1]
    t0, h0 = 21, 1
    clean = (args[0], dt.clone()) + args[2:]
    dt[0, t0, h0] = float("inf")
    dependent = torch.zeros_like(args[0], dtype=torch.bool)
    dependent[0, t0:48, h0, :] = True
    final_dependent = torch.zeros(1, 2, 16, 16, dtype=torch.bool, device=device)
    _check(impl, args, kw, clean, dependent, final_dependent)


def test_a_nan_in_x_reaches_the_final_state_of_its_own_sequence(device, impl):
    args, kw = _inputs(device, [20])
    x = args[0]
    clean = (x.clone(),) + args[1:]
    x[0, 48, 0, 5] = float("nan")  # a chunk start
    dependent = torch.zeros_like(x, dtype=torch.bool)
    dependent[0, 48:, 0, 5] = True
    final_dependent = torch.zeros(1, 2, 16, 16, dtype=torch.bool, device=device)
    final_dependent[0, 0, 5, :] = True
    _check(impl, args, kw, clean, dependent, final_dependent)


@pytest.mark.parametrize("packed", [False, True], ids=["no-seq_idx", "seq_idx"])
def test_a_nan_in_x_mid_chunk_leaves_the_earlier_rows_of_its_chunk_finite(device, impl, packed):
    # without seq_idx the kernels take the first non-finite row of each column,
    # with it the count of reaching rows (ssd_common.nonfinite_rows): both forms
    args, kw = _inputs(device, [])
    if not packed:
        kw.pop("seq_idx")
    x = args[0]
    clean = (x.clone(),) + args[1:]
    x[0, 21, 1, 3] = float("nan")
    dependent = torch.zeros_like(x, dtype=torch.bool)
    dependent[0, 21:, 1, 3] = True
    final_dependent = torch.zeros(1, 2, 16, 16, dtype=torch.bool, device=device)
    final_dependent[0, 1, 3, :] = True
    _check(impl, args, kw, clean, dependent, final_dependent)


def test_non_finite_x_in_three_sequences_of_one_chunk_stays_in_each_from_its_own_time(device, impl):
    # sequences [0, 20), [20, 26), [26, 64): chunk [16, 32) holds the end of the
    # first, all of the second and the start of the third; one bad x in each,
    # all in the same (head, channel), so one count per column is not enough
    args, kw = _inputs(device, [20, 26])
    x = args[0]
    clean = (x.clone(),) + args[1:]
    x[0, 18, 1, 3] = float("nan")
    x[0, 23, 1, 3] = float("inf")
    x[0, 29, 1, 3] = float("-inf")
    dependent = torch.zeros_like(x, dtype=torch.bool)
    for t0, t1 in ((18, 20), (23, 26), (29, 64)):
        dependent[0, t0:t1, 1, 3] = True
    final_dependent = torch.zeros(1, 2, 16, 16, dtype=torch.bool, device=device)
    final_dependent[0, 1, 3, :] = True
    _check(impl, args, kw, clean, dependent, final_dependent)


def test_a_nan_in_B_before_a_sequence_start_in_its_chunk_does_not_reach_the_next_sequence(device, impl):
    # B[21] is NaN, the next sequence starts at 24 in the same chunk [16, 32):
    # the state the chunk passes on holds only the new sequence, and its dot
    # must not meet B[21] (0 * NaN); g = 1, so every head and channel of
    # [21, 24) depends on it
    args, kw = _inputs(device, [24])
    B = args[3]
    clean = args[:3] + (B.clone(),) + args[4:]
    B[0, 21, 0, 7] = float("nan")
    dependent = torch.zeros_like(args[0], dtype=torch.bool)
    dependent[0, 21:24] = True
    final_dependent = torch.zeros(1, 2, 16, 16, dtype=torch.bool, device=device)
    _check(impl, args, kw, clean, dependent, final_dependent)


def test_an_inf_in_dt_leaves_a_sequence_starting_later_in_the_same_chunk_finite(device, impl):
    """cs restarts at every sequence start (ssd_common.dt_prologue)."""
    args, kw = _inputs(device, [26])
    dt = args[1]
    clean = (args[0], dt.clone()) + args[2:]
    dt[0, 21, 1] = float("inf")
    dependent = torch.zeros_like(args[0], dtype=torch.bool)
    dependent[0, 21:26, 1, :] = True
    final_dependent = torch.zeros(1, 2, 16, 16, dtype=torch.bool, device=device)
    _check(impl, args, kw, clean, dependent, final_dependent)
