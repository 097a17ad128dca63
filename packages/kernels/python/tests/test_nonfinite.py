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


# ---- backward (kernels/ssd_bwd.py: v4; ssd_bwd_T.py: v5s, the transposed chunk kernel in two launches) ----
# The expectation is torch autograd through the float64 reference with the
# same bad input: where a reference gradient is finite ours must be finite and
# close, where it is not, ours must not be either. (For a NaN in x at t: dx
# stays finite everywhere, dB is NaN at t only, dC, ddt, dz from t to the end
# of t's sequence, dA, ddt_bias and dD in t's head; nothing in other heads,
# groups or sequences.)
BWD_NAMES = {"x": "dx", "dt": "ddt", "A": "dA", "B": "dB", "C": "dC", "D": "dD", "z": "dz",
             "dt_bias": "ddt_bias", "initial_states": "dinitial_states"}
BWD_IMPLS = ("v4", "v5s")


def _bwd_inputs(device, seq_starts):
    b, l, h, p, g, n = 1, L, 4, 16, 2, 16
    inp = {
        "x": torch.randn(b, l, h, p, device=device),
        "dt": torch.randn(b, l, h, device=device) - 3.0,
        "A": -torch.exp(torch.empty(h, device=device).uniform_(math.log(0.05), math.log(2.0))),
        "B": torch.randn(b, l, g, n, device=device),
        "C": torch.randn(b, l, g, n, device=device),
        "D": torch.randn(h, device=device),
        "z": torch.randn(b, l, h, p, device=device),
        "dt_bias": torch.rand(h, device=device) * 2.0 - 1.0,
        "initial_states": torch.randn(b, h, p, n, device=device),
    }
    seq = None
    if seq_starts is not None:
        seq = torch.zeros(b, l, dtype=torch.int32, device=device)
        for t in seq_starts:
            seq[:, t:] += 1
    return inp, seq


def _check_bwd(bwd_impl, inp, seq, consts=None):
    from mamba2_kernels.kernels import ssd_bwd as bwd

    consts = dict(dt_softplus=True, dt_limit=(0.002, 0.15)) if consts is None else consts
    ref_in = {k: v.to(torch.float64).requires_grad_() for k, v in inp.items()}
    core = ("x", "dt", "A", "B", "C")
    out, fin = ref_scan(*(ref_in[k] for k in core), **{k: v for k, v in ref_in.items() if k not in core},
                        seq_idx=seq, return_final_states=True, **consts)
    dout, dfin = torch.randn_like(out), torch.randn_like(fin)
    ((out * dout).sum() + (fin * dfin).sum()).backward()  # d loss / d out = dout, NaN or not
    g = bwd.ssd_bwd(dout.float(), *(inp[k] for k in core), **{k: v for k, v in inp.items() if k not in core},
                    seq_idx=seq, dfinal_states=dfin.float(), **consts, impl=bwd_impl, block_q=Q)
    for k, r in ref_in.items():
        name = BWD_NAMES[k]
        ours, ref = g[name].detach().to(torch.float64), r.grad
        want_bad = ~torch.isfinite(ref)
        bad = ~torch.isfinite(ours)
        wrong = (bad & ~want_bad).nonzero().tolist()
        assert not wrong, f"{name}: non-finite where the reference gradient is finite, at {wrong[:6]}"
        missing = (~bad & want_bad).nonzero().tolist()
        assert not missing, f"{name}: finite where the reference gradient is not, at {missing[:6]}"
        if (~want_bad).any():
            err = rel_err(ours[~want_bad], ref[~want_bad])
            assert err <= TOL, f"{name}: rel err {err:.2e} > {TOL:.0e} over the finite gradients"


@pytest.mark.parametrize("bwd_impl", BWD_IMPLS)
@pytest.mark.parametrize("gated", [True, False], ids=["z", "no-z"])
@pytest.mark.parametrize("packed", [False, True], ids=["no-seq_idx", "seq_idx"])
def test_a_nan_in_x_mid_chunk_leaves_the_gradients_of_other_heads_sequences_and_earlier_rows_finite(
        device, bwd_impl, packed, gated):
    # tile 16: the NaN at 21 is mid-chunk; with seq_idx its sequence ends at 26
    # in the same chunk and the next runs to 40 (head 1 is in group 0 with head 0).
    # Without z the chunk kernels take other paths (v5s: no y, so x reaches the dots as it is)
    inp, seq = _bwd_inputs(device, [26, 40] if packed else None)
    if not gated:
        del inp["z"]
    inp["x"][0, 21, 1, 3] = float("nan")
    _check_bwd(bwd_impl, inp, seq)


@pytest.mark.parametrize("bwd_impl", BWD_IMPLS)
def test_a_nan_in_x_at_the_last_position_of_a_sequence_leaves_dA_finite(device, bwd_impl):
    # no later position of its sequence decays its state: d dA and the decay
    # gradients stay finite, ddt there does not (x enters dt x B)
    inp, seq = _bwd_inputs(device, [26, 40])
    inp["x"][0, 25, 2, 7] = float("nan")
    _check_bwd(bwd_impl, inp, seq)


@pytest.mark.parametrize("bwd_impl", BWD_IMPLS)
def test_an_inf_in_x_at_a_chunk_start_poisons_the_gradients_only_through_its_own_sequence(device, bwd_impl):
    # x[32] starts a chunk in the sequence [26, 52); the state carries it into
    # the chunk [48, 64), where the sequence start at 52 must stop it
    inp, seq = _bwd_inputs(device, [26, 52])
    inp["x"][0, 32, 3, 5] = float("inf")
    _check_bwd(bwd_impl, inp, seq)


def test_a_nan_in_the_conv_input_leaves_the_next_packed_sequence_gradients_finite(device):
    """The conv with seq_idx (custom op: kernels/conv_varlen.py) against autograd
    through the float64 reference conv: a NaN in x at the last position of a
    sequence reaches neither the next sequence's outputs nor its dx."""
    from mamba2_kernels.autograd import causal_conv1d_autograd
    from mamba2_runner.reference.ops import ref_causal_conv1d

    b, l, c, w = 1, 24, 16, 4
    x = torch.randn(b, l, c, device=device)
    weight, bias = torch.randn(c, w, device=device), torch.randn(c, device=device)
    seq = torch.zeros(b, l, dtype=torch.int32, device=device)
    seq[:, 10:] = 1
    x[0, 9, 5] = float("nan")
    leaves = [t.clone().requires_grad_() for t in (x, weight, bias)]
    ref_leaves = [t.to(torch.float64).requires_grad_() for t in (x, weight, bias)]
    out = causal_conv1d_autograd(*leaves, activation="silu", seq_idx=seq)
    ref = ref_causal_conv1d(*ref_leaves, activation="silu", seq_idx=seq)
    dout = torch.randn_like(out)
    out.backward(dout)
    ref.backward(dout.to(torch.float64))
    for name, ours, r in [("out", out.detach(), ref.detach())] + [
            (n, t.grad, rt.grad) for n, t, rt in zip(("dx", "dweight", "dbias"), leaves, ref_leaves)]:
        want_bad, bad = ~torch.isfinite(r), ~torch.isfinite(ours)
        assert torch.equal(bad, want_bad), (
            f"{name}: non-finite at {bad.nonzero().tolist()[:6]}, the reference at {want_bad.nonzero().tolist()[:6]}")
        if (~want_bad).any():
            err = rel_err(ours[~want_bad].to(torch.float64), r[~want_bad])
            assert err <= TOL, f"{name}: rel err {err:.2e} > {TOL:.0e}"


# An Inf in dt (dt * A = -inf): the recurrence's decay there is exp(-inf) = 0,
# a state reset, and autograd through the float64 reference gives (worked out
# by hand, and what the reference gives): dx and dB non-finite at the Inf only;
# dC, dz from it to the end of its sequence; ddt after it to the end of its
# sequence (the state there is Inf), finite at the Inf itself unless the state
# before it is already non-finite (a second Inf of its sequence: NaN), and
# NaN there with dt_softplus, clamped or not (the reference's softplus:
# 0 * exp(inf) in its unused branch); dA (dt * 0 = NaN) and ddt_bias of its head; everything before
# it, in other sequences and heads, finite and equal. The chunk kernels take
# the Inf as a reset (NOTES.md "Non-finite inputs"); chunk 16 here.
INF_DT_CASES = {
    # head 1: mid-chunk, again in a later chunk (its state before is Inf); head 2:
    # at a chunk start and again later in that chunk
    "no-seq_idx": (None, [(21, 1), (50, 1), (32, 2), (37, 2)], {}),
    # sequences start at 18, 26 (inside the chunk [16, 32)) and 40: head 1 Inf at 21
    # (rows 16, 17 of the chunk are the sequence before); head 2 two Infs in the
    # chunk [32, 48) after the start at 40; head 3 at the chunk start 48
    "seq_idx": ([18, 26, 40], [(21, 1), (41, 2), (44, 2), (48, 3)], {}),
    # a raw +inf with dt_bias and softplus gives dt = inf (no clamp)
    "softplus": ([26, 40], [(21, 1), (32, 2)], dict(dt_softplus=True)),
    # clamped to 0.15: dt has no Inf, the reference's ddt at the raw +inf is NaN all the same
    "softplus-clamped": ([26, 40], [(21, 1)], dict(dt_softplus=True, dt_limit=(0.002, 0.15))),
}


@pytest.mark.parametrize("bwd_impl", BWD_IMPLS)
@pytest.mark.parametrize("case", list(INF_DT_CASES))
def test_an_inf_in_dt_gives_non_finite_gradients_exactly_where_the_reference_has_them(device, bwd_impl, case):
    seq_starts, infs, consts = INF_DT_CASES[case]
    inp, seq = _bwd_inputs(device, seq_starts)
    if not consts.get("dt_softplus"):
        inp.pop("dt_bias")
        inp["dt"] = torch.rand_like(inp["dt"]) * 0.2 + 0.005
    for t, h in infs:
        inp["dt"][0, t, h] = float("inf")
    _check_bwd(bwd_impl, inp, seq, consts)
