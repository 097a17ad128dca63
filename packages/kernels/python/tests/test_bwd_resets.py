"""The backward chunk kernels' two forms (ssd_bwd._skip_program, NOTES.md
"Non-finite inputs"): each pass launches the plain form (RESETS=False: the
code before the Inf-dt exactness) for the programs whose chunk has no state
reset (dt * A = -inf) in their heads, then the exact form (RESETS=True) for
those that have one; a program of the other form returns at once.

What must hold (v4: dB, dC accumulated over a split of 2 heads; v5s: the
DO_X pass one head per program, its exact launch on the split's grid):
- every pass is those two launches, in that order;
- with finite inputs the result equals one exact launch per pass over every
  program (exact_only) bit for bit on CPU: with no reset both forms do the
  same arithmetic (on CUDA rel err 1e-5: the compiler may contract the
  plain cumsum's products into FMAs);
- with an Inf in dt the result equals exact_only (NaN where it has NaN);
  the plain launch alone leaves exactly the Inf's (chunk, split) unwritten
  and the exact launch alone writes exactly that; the plain form over every
  program differs from the result only in the rows of the Inf's chunk (only
  the exact form keeps test_nonfinite.py's guarantees there).
"""
from __future__ import annotations

import math

import pytest
import torch

import mamba2_kernels  # noqa: F401
from mamba2_runner.checks import rel_err
from mamba2_kernels.kernels import ssd_bwd, ssd_bwd_T

Q = 16
B_, L_, H_, P_, G_, N_ = 1, 48, 4, 16, 1, 16  # 3 chunks; 4 heads in one group, split in 2 (nsplit 2)
ROWS = ("dx", "dz", "ddt", "dB", "dC")  # per-time gradients ([b, l, ...])


def _inputs(device, seq):
    inp = dict(
        x=torch.randn(B_, L_, H_, P_, device=device),
        dt=torch.rand(B_, L_, H_, device=device) * 0.2 + 0.005,
        A=-torch.exp(torch.empty(H_, device=device).uniform_(math.log(0.05), math.log(2.0))),
        B=torch.randn(B_, L_, G_, N_, device=device),
        C=torch.randn(B_, L_, G_, N_, device=device),
        D=torch.randn(H_, device=device),
        z=torch.randn(B_, L_, H_, P_, device=device),
        initial_states=torch.randn(B_, H_, P_, N_, device=device),
    )
    if seq:
        s = torch.zeros(B_, L_, dtype=torch.int32, device=device)
        s[:, 21:] += 1  # a sequence start mid-chunk
        inp["seq_idx"] = s
    return inp


class _Recorder:
    """Wraps a chunk kernel: records each launch's (RESETS, SKIP, DO_X, DO_BC).
    only: None (launch as asked), "plain" / "exact" (drop the other form's
    launches), "plain-all" (the plain form over every program, no exact launch)."""

    def __init__(self, real, only=None):
        self.real, self.only, self.launches = real, only, []

    def __getitem__(self, grid):
        def launch(*args, **kw):
            self.launches.append((kw["RESETS"], kw["SKIP"], kw["DO_X"], kw["DO_BC"]))
            if self.only is not None and kw["RESETS"] != (self.only == "exact"):
                return
            if self.only == "plain-all":
                kw = dict(kw, SKIP=False)
            self.real[grid](*args, **kw)
        return launch


SENTINEL = 7777.0  # what torch.empty holds in _run: an output element no program wrote


def _run(monkeypatch, impl, inp, exact_only=False, only=None):
    mod, name = (ssd_bwd, "_ssd_bwd_chunk_v4_kernel") if impl == "v4" else (ssd_bwd_T, "_ssd_bwd_chunk_T_kernel")
    rec = _Recorder(getattr(mod, name), only)
    real_empty = torch.empty
    monkeypatch.setattr(mod, name, rec)
    monkeypatch.setattr(torch, "empty", lambda *a, **k: real_empty(*a, **k).fill_(SENTINEL))
    torch.manual_seed(1)
    dout = torch.randn_like(inp["x"])
    g = ssd_bwd.ssd_bwd(dout, **inp, impl=impl, block_q=Q, nsplit=2, exact_only=exact_only)
    monkeypatch.setattr(mod, name, rec.real)
    monkeypatch.setattr(torch, "empty", real_empty)
    return g, rec.launches


def _same(a, b, device):
    """Bit for bit (NaN where the other has NaN) on CPU; on CUDA the same NaN
    pattern, the same +-Inf at the same places, and ||a - b|| / ||b|| <= 1e-5
    over the finite rest (an Inf in both, e.g. dz at the Inf dt's row, would
    make that norm NaN: call14 failed this test on CUDA so, with equal results)."""
    if not torch.equal(torch.isnan(a), torch.isnan(b)):
        return False
    if device == "cpu":
        return torch.equal(a.nan_to_num(), b.nan_to_num())
    inf = torch.isinf(a)
    if not torch.equal(inf, torch.isinf(b)) or not torch.equal(a[inf], b[inf]):
        return False
    m = torch.isfinite(a)
    return not m.any() or rel_err(a[m].double(), b[m].double()) <= 1e-5


PASSES = {"v4": [(True, True)], "v5s": [(True, False), (False, True)]}


@pytest.mark.parametrize("impl", ["v4", "v5s"])
@pytest.mark.parametrize("seq", [False, True], ids=["plain", "seq_idx"])
def test_with_finite_inputs_the_two_launch_backward_equals_the_exact_form_alone(device, monkeypatch, impl, seq):
    inp = _inputs(device, seq)
    g, launches = _run(monkeypatch, impl, inp)
    assert launches == [(r, True, x, bc) for x, bc in PASSES[impl] for r in (False, True)]
    g_exact, launches_exact = _run(monkeypatch, impl, inp, exact_only=True)
    assert launches_exact == [(True, False, x, bc) for x, bc in PASSES[impl]]
    for k, v in g.items():
        if v is not None:
            assert torch.isfinite(v).all(), k
            assert _same(v, g_exact[k], device), f"{k}: the two-launch result differs from the exact form alone"


@pytest.mark.parametrize("impl", ["v4", "v5s"])
def test_with_an_inf_in_dt_only_the_programs_of_its_chunk_and_split_take_the_exact_form(device, monkeypatch, impl):
    inp = _inputs(device, False)
    inp["dt"][0, 21, 1] = float("inf")  # chunk 1 ([16, 32)), head 1: split 0 (heads 0, 1)
    g, _ = _run(monkeypatch, impl, inp)
    g_exact, _ = _run(monkeypatch, impl, inp, exact_only=True)
    for k, v in g.items():
        if v is not None:
            assert _same(v, g_exact[k], device), f"{k}: the two-launch result differs from the exact form alone"
    # which programs each launch ran: dx, ddt rows of (chunk, head) left unwritten
    flagged = torch.zeros(B_, L_, H_, dtype=torch.bool, device=device)
    flagged[:, Q:2 * Q, :2] = True
    for only, unwritten in (("plain", flagged), ("exact", ~flagged)):
        g1, _ = _run(monkeypatch, impl, inp, only=only)
        for k in ("dx", "dz", "ddt"):
            left = (g1[k] == SENTINEL).reshape(B_, L_, H_, -1)
            assert torch.equal(left.all(-1), unwritten) and torch.equal(left.any(-1), unwritten), (
                f"{only} launch alone: {k} unwritten at (t, h) {left.any(-1)[0].nonzero().tolist()[:8]}, "
                f"want chunk 1 x heads 0, 1 {'only' if only == 'plain' else 'written only'}")
    # and the exact form is what keeps the result there: the plain form alone differs, in chunk 1 only
    g_plain, _ = _run(monkeypatch, impl, inp, only="plain-all")
    differs = False
    for k in ROWS:
        a, b = g[k], g_plain[k]
        diff = (torch.isnan(a) != torch.isnan(b)) | ((a.nan_to_num() - b.nan_to_num()).abs() > 0)
        rows = diff.reshape(B_, L_, -1).any(-1).any(0).nonzero().flatten().tolist()
        assert all(Q <= t < 2 * Q for t in rows), f"{k}: the plain form alone differs at rows {rows} outside chunk 1"
        differs = differs or bool(rows)
    assert differs, "the plain form alone gives the exact result: the Inf-dt case does not test the exact launch"
