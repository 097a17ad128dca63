"""The transposed walk's two forms (ssd_fused._ssd_fused_T_kernel): every
program walks without the non-finite selects, flags itself when it saw a
non-finite value, and only then walks again with them (in the same launch).

What must hold, on the pre-kernel and the split-L paths:
- with finite inputs no program is flagged, and the outputs and final states
  equal the one-pass exact walk's bit for bit (so the fast path changes no
  result);
- a NaN in x flags exactly the programs that read it or walk after it in its
  (batch, head): the p-block holding its channel, from its L-segment on;
- without the re-run (RERUN=False), the plain walk alone spreads that NaN to earlier rows of
  its chunk (0 * NaN in the masked intra-chunk term), so the re-run is what
  keeps the test_nonfinite.py guarantees on these paths.
Comparisons are torch.equal (bitwise), not tolerances: both passes run the
same arithmetic on the same inputs.
"""
from __future__ import annotations

import math

import pytest
import torch

import mamba2_kernels  # noqa: F401
from mamba2_kernels.kernels import ssd_fused

Q = 16
# L 128 = 8 chunks; split-L with SPLIT_MIN_SEG_CHUNKS 1 on a huge SM count gives 4 segments of 2 chunks
B_, L_, H_, P_, G_, N_ = 2, 128, 3, 32, 1, 16


def _inputs(device, seq=False, b=B_, h=H_):
    x = torch.randn(b, L_, h, P_, device=device)
    dt = torch.rand(b, L_, h, device=device) * 0.2 + 0.005
    A = -torch.exp(torch.empty(h, device=device).uniform_(math.log(0.05), math.log(2.0)))
    Bm = torch.randn(b, L_, G_, N_, device=device)
    Cm = torch.randn(b, L_, G_, N_, device=device)
    kw = dict(D=torch.randn(h, device=device), z=torch.randn(b, L_, h, P_, device=device),
              initial_states=torch.randn(b, h, P_, N_, device=device), return_final_states=True)
    if seq:
        s = torch.zeros(b, L_, dtype=torch.int32, device=device)
        s[:, 40:] += 1
        s[:, 77:] += 1
        kw["seq_idx"] = s
        kw.pop("initial_states")
    return (x, dt, A, Bm, Cm), kw


class _Recorder:
    """Wraps the walk kernel: records each launch's form and its flags after
    it ran (a copy); with no_rerun, launches the plain walk alone (RERUN=False)."""

    def __init__(self, real, no_rerun=False):
        self.real, self.no_rerun, self.launches = real, no_rerun, []

    def __getitem__(self, grid):
        def launch(*args, **kw):
            if self.no_rerun:
                kw = dict(kw, RERUN=False)
            self.real[grid](*args, **kw)
            self.launches.append(("exact" if kw.get("EXACT", True) else "plain", grid, args[13].clone()))
        return launch


def _run(monkeypatch, args, kw, exact_only=False, no_rerun=False):
    rec = _Recorder(ssd_fused._ssd_fused_T_kernel, no_rerun)
    monkeypatch.setattr(ssd_fused, "_ssd_fused_T_kernel", rec)
    out, final = ssd_fused.ssd_fused_fwd(*args, Q, block_p=16, exact_only=exact_only, **kw)
    monkeypatch.setattr(ssd_fused, "_ssd_fused_T_kernel", rec.real)
    return out, final, rec.launches


@pytest.mark.parametrize("path", ["pre", "split"])
@pytest.mark.parametrize("seq", [False, True], ids=["plain", "seq_idx"])
def test_with_finite_inputs_no_program_is_flagged_and_the_result_equals_the_exact_walk_bit_for_bit(
        device, monkeypatch, force_path, path, seq):
    force_path(path)
    # one batch, two heads: both forms run the same offsets, so a wrong one
    # would not differ between them (offsets against the reference: test_scan.py);
    # what is compared here is the arithmetic of the two forms, per program
    args, kw = _inputs(device, seq, b=1, h=2)
    out, final, launches = _run(monkeypatch, args, kw)
    assert [m for m, _, _ in launches] == ["plain"]
    flags = launches[0][2]
    assert flags.numel() == math.prod(launches[0][1]), "one flag per program"
    assert int(flags.sum()) == 0, f"finite inputs flagged {int(flags.sum())} programs"
    ref_out, ref_final, ref_launches = _run(monkeypatch, args, kw, exact_only=True)
    assert [m for m, _, _ in ref_launches] == ["exact"]
    assert torch.isfinite(out).all()
    assert torch.equal(out, ref_out)
    assert torch.equal(final, ref_final)


@pytest.mark.parametrize("path", ["pre", "split"])
def test_a_nan_in_x_flags_only_the_programs_of_its_channel_block_from_its_segment_on(
        device, monkeypatch, force_path, path):
    force_path(path)
    args, kw = _inputs(device)
    b0, t0, h0, p0 = 1, 45, 2, 20  # chunk 2 (t 32-47), p-block 1 of 2 (block_p 16)
    args[0][b0, t0, h0, p0] = float("nan")
    _, _, launches = _run(monkeypatch, args, kw)
    grid, flags = launches[0][1], launches[0][2]
    n_p, bh, nseg = grid
    # flags[(i_bh * NSEG + i_k) * n_p + i_p]
    got = flags.view(bh, nseg, n_p).nonzero().tolist()
    seg_len = L_ // nseg
    want = [[b0 * H_ + h0, k, p0 // 16] for k in range(nseg) if (k + 1) * seg_len > t0]
    assert got == want, f"flagged (bh, segment, p-block) {got}, want {want}"


@pytest.mark.parametrize("form", ["call", "inline"])
@pytest.mark.parametrize("path", ["pre", "split"])
def test_the_plain_walk_alone_spreads_a_nan_to_earlier_rows_of_its_chunk_and_the_exact_rerun_repairs_them(
        device, monkeypatch, force_path, path, form):
    # form: the re-walk called or inlined (ssd_fused_dispatch.REWALK); both must give the exact walk's result
    force_path(path)
    monkeypatch.setattr(ssd_fused.dispatch, "REWALK", form)
    args, kw = _inputs(device, b=1, h=2)  # what spreads is within one (batch, head)
    kw.pop("z")  # the gate would not change which rows are NaN; keep the check on the scan alone
    b0, t0, h0, p0 = 0, 21, 1, 3  # mid-chunk: rows 16-20 of its chunk come before it
    args[0][b0, t0, h0, p0] = float("nan")
    plain, _, _ = _run(monkeypatch, args, kw, no_rerun=True)
    assert torch.isnan(plain[b0, 16:t0, h0]).any(), "the plain walk kept earlier rows finite: the test lost its point"
    full, _, _ = _run(monkeypatch, args, kw)
    assert torch.isfinite(full[b0, :t0]).all()
    assert torch.isnan(full[b0, t0:, h0, p0]).all()
    exact, _, _ = _run(monkeypatch, args, kw, exact_only=True)
    assert torch.equal(torch.nan_to_num(full), torch.nan_to_num(exact))
    assert torch.equal(torch.isnan(full), torch.isnan(exact))


def test_an_unknown_rewalk_form_is_refused_with_the_forms_named(device, monkeypatch, force_path):
    force_path("pre")
    monkeypatch.setattr(ssd_fused.dispatch, "REWALK", "inlined")
    args, kw = _inputs(device, b=1, h=2)
    with pytest.raises(ValueError, match="MAMBA2_FWD_REWALK.*'inlined'.*call.*inline"):
        ssd_fused.ssd_fused_fwd(*args, Q, block_p=16, **kw)


@pytest.mark.parametrize("case", ["inf-in-C", "G-past-fp32"])
@pytest.mark.parametrize("path", ["pre", "split"])
def test_with_the_exponent_mask_a_non_finite_C_or_G_flags_its_programs_and_the_result_equals_the_exact_walk(
        device, monkeypatch, force_path, path, case):
    # ssd_fused_dispatch.MASK "exponent": the plain walk's masked intra-chunk terms are G * 0 * dt, so a
    # non-finite G = B C^T (an Inf in C; or finite B and C whose product passes fp32's range, which no check
    # of the inputs sees) makes them NaN where the exact walk drops them. C never reaches the state, so a
    # flag from the end state alone misses it (the unguarded form; NOTES "Exponent mask with a sound flag").
    # No seq_idx: there the flag was the end state's.
    force_path(path)
    monkeypatch.setattr(ssd_fused.dispatch, "MASK", "exponent")
    args, kw = _inputs(device, b=2, h=2)
    kw.pop("z")  # the gate would multiply the Inf by silu(z) of either sign; keep the check on the scan alone
    x, _, _, Bm, Cm = args
    b0, t0, n0 = 1, 37, 5  # mid-chunk (chunk 2, rows 32-47): masked terms of column t0 come after it
    # every Inf term of output t0 with one sign, so the exact walk gives +Inf there (not NaN) and the
    # plain walk's NaN is a difference torch.equal sees
    x.abs_()
    Bm[..., n0] = Bm[..., n0].abs() + 2.0
    kw["initial_states"][..., n0] = kw["initial_states"][..., n0].abs()
    Cm[b0, t0, 0, n0] = float("inf") if case == "inf-in-C" else 3.0e38  # 3e38 * (|B| + 2) > fp32 max
    assert torch.isfinite(x).all() and torch.isfinite(Bm).all()
    exact, exact_final, _ = _run(monkeypatch, args, kw, exact_only=True)
    assert torch.isposinf(exact[b0, t0]).all(), "the exact walk's output at t0 is not +Inf: the test lost its point"
    assert torch.isfinite(exact[b0, :t0]).all() and torch.isfinite(exact[b0, t0 + 1:]).all()
    plain, _, _ = _run(monkeypatch, args, kw, no_rerun=True)
    assert torch.isnan(plain[b0, t0]).any(), "the plain walk alone gave no NaN at t0: the test lost its point"
    full, final, launches = _run(monkeypatch, args, kw)
    assert [m for m, _, _ in launches] == ["plain"]
    grid, flags = launches[0][1], launches[0][2]
    n_p, bh, nseg = grid
    got = flags.view(bh, nseg, n_p).nonzero().tolist()
    seg_len = L_ // nseg  # (G_ = 1: every head of batch b0 reads C, every p-block)
    want = [[b0 * 2 + h0, t0 // seg_len, ip] for h0 in range(2) for ip in range(n_p)]
    assert got == want, f"flagged (bh, segment, p-block) {got}, want {want}"
    assert torch.equal(torch.nan_to_num(full), torch.nan_to_num(exact))
    assert torch.equal(torch.isnan(full), torch.isnan(exact))
    assert torch.equal(final, exact_final)


def test_an_unknown_mask_form_is_refused_with_the_forms_named(device, monkeypatch, force_path):
    force_path("pre")
    monkeypatch.setattr(ssd_fused.dispatch, "MASK", "exp")
    args, kw = _inputs(device, b=1, h=2)
    with pytest.raises(ValueError, match="MAMBA2_FWD_MASK.*'exp'.*auto.*product.*exponent"):
        ssd_fused.ssd_fused_fwd(*args, Q, block_p=16, **kw)
