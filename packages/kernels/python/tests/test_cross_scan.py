"""mamba2_kernels.cross_scan.cross_scan_combined (scans of an image in K
orders, merged; MAMBA2.md "Scans in other orders") against the float64
reference mamba2_runner.reference.cross_scan.ref_cross_scan, which runs the
sequential recurrence once per order on explicitly permuted copies (reshape,
transpose, flip): independent of the kernels' index maps.

Shapes (tiny: the interpreter is slow): non-square images (3 x 5, 5 x 7) and a
1 x 37 bidirectional row, so H*W is never a multiple of the 16-long tile;
ngroups 2 of 4 heads; D, z,
dt_bias with softplus. The forward runs on each fused path (one launch, T+pre,
T+pre split-L: the dispatch forced, see conftest) and with both merge
strategies; gradients of x, dt, A, B, C, D, z, dt_bias go against torch
autograd through the reference. The SSD backward of each order is v4 for
images this short by default (v6 gives L < V6_MIN_LEN away); one gradient case
runs v6 alone (v4 made to raise), as real images do.

Error measure ||got - ref|| / ||ref|| (mamba2_runner.checks.rel_err; NaN/inf
never pass). Buffers the wrappers allocate with torch.empty are NaN-poisoned
(the `poison` fixture), so an element no kernel writes fails. Tolerances:
  cpu fp32 1e-4  (interpreter: exact fp32 dots; measured ~2e-7 fwd, ~7e-6 dA)
  cuda fp32 2e-3 fwd / 1e-3 grads (tf32 dots in the forward; as test_scan, test_grad)
  cuda bf16 3e-2 (bf16 operands, y_k and dx in bf16)
"""
from __future__ import annotations

import math

import pytest
import torch

from mamba2_runner.checks import rel_err
from mamba2_runner.pkgload import select_device
from mamba2_runner.reference.cross_scan import ref_cross_scan

select_device()  # TRITON_INTERPRET before the kernels are imported


from mamba2_kernels.cross_scan import cross_scan_combined  # noqa: E402

FWD_TOL = {("cpu", torch.float32): 1e-4, ("cuda", torch.float32): 2e-3, ("cuda", torch.bfloat16): 3e-2}
# cuda fp32: the forward's dots run in tf32 (Triton's default), and dz and the recomputed outputs carry it
GRAD_TOL = {("cpu", torch.float32): 1e-4, ("cuda", torch.float32): 3e-3, ("cuda", torch.bfloat16): 3e-2}
K_OF = {"bidirectional": 2, "cross2d": 4}
NAMES = ("x", "dt", "A", "B", "C", "D", "z", "dt_bias")


def _tol(table, device, dtype):
    if (device, dtype) not in table:
        pytest.skip(f"{dtype} cases run on CUDA only")
    return table[(device, dtype)]


def cross_inputs(b, height, width, h, p, g, n, directions, device, dtype=torch.float32, *, full=True):
    """Random inputs in a trained block's ranges (raw dt around softplus^-1 of
    small steps, A in [-2, -0.05]); every order gets its own dt, A, B, C, D."""
    K, l = K_OF[directions], height * width
    t = dict(
        x=torch.randn(b, l, h, p, device=device).to(dtype),
        dt=(torch.randn(b, K, l, h, device=device) - 2.0) if full else torch.rand(b, K, l, h, device=device) * 0.2,
        A=-torch.exp(torch.empty(K, h, device=device).uniform_(math.log(0.05), math.log(2.0))),
        B=torch.randn(b, K, l, g, n, device=device).to(dtype),
        C=torch.randn(b, K, l, g, n, device=device).to(dtype),
        D=torch.randn(K, h, device=device) if full else None,
        z=torch.randn(b, l, h, p, device=device).to(dtype) if full else None,
        dt_bias=(torch.rand(K, h, device=device) * 2.0 - 1.0) if full else None,
    )
    return t, dict(dt_softplus=full)


def _call(t, height, width, directions, **kw):
    return cross_scan_combined(t["x"], t["dt"], t["A"], t["B"], t["C"], height, width, directions,
                               D=t["D"], z=t["z"], dt_bias=t["dt_bias"], **kw)


def _ref(t, height, width, directions, **kw):
    return ref_cross_scan(t["x"], t["dt"], t["A"], t["B"], t["C"], height, width, directions,
                          D=t["D"], z=t["z"], dt_bias=t["dt_bias"], **kw)


CASES = [("bidirectional", 1, 37), ("cross2d", 3, 5)]
DTYPES = [pytest.param(torch.float32, id="fp32"), pytest.param(torch.bfloat16, id="bf16")]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("path", ["one-launch", "pre", "split"])
@pytest.mark.parametrize("directions,height,width", CASES)
def test_cross_scan_forward_matches_the_float64_reference_on_every_fused_path(
        device, poison, force_path, dtype, path, directions, height, width):
    tol = _tol(FWD_TOL, device, dtype)
    force_path(path)
    t, kw = cross_inputs(1, height, width, 4, 16, 2, 16, directions, device, dtype)
    out = _call(t, height, width, directions, chunk_size=16, **kw)
    assert out.dtype == dtype and out.shape == t["x"].shape
    assert rel_err(out, _ref(t, height, width, directions, **kw)) <= tol


@pytest.mark.parametrize("merge", ["buffer", "accumulate"])
def test_both_merge_strategies_give_the_reference_result_with_and_without_skip_and_gate(device, poison, merge):
    for full in (True, False):
        t, kw = cross_inputs(1, 5, 7, 2, 16, 1, 16, "cross2d", device, full=full)
        out = _call(t, 5, 7, "cross2d", chunk_size=16, merge=merge, dt_limit=(0.002, 0.15), **kw)
        ref = _ref(t, 5, 7, "cross2d", dt_limit=(0.002, 0.15), **kw)
        assert rel_err(out, ref) <= FWD_TOL[(device, torch.float32)], f"full={full}"


def _grads(t, height, width, directions, kw, dtype, device, merge=None):
    """(kernel grads, float64 reference grads) of every input that is set."""
    names = [k for k in NAMES if t[k] is not None]
    tri = {k: (t[k].clone().requires_grad_() if k in names else None) for k in NAMES}
    ref = {k: (t[k].detach().double().clone().requires_grad_() if k in names else None) for k in NAMES}
    out = _call(tri, height, width, directions, chunk_size=16, merge=merge, **kw)
    out_ref = _ref(ref, height, width, directions, **kw)
    dout = torch.randn(out.shape, device=device, dtype=torch.float64)
    out.backward(dout.to(out.dtype))
    out_ref.backward(dout)
    return {k: tri[k].grad for k in names}, {k: ref[k].grad for k in names}


def _backward_v6_only(monkeypatch):
    """Every order's backward runs v6 (ssd_bwd_v6.py) and nothing runs v4: v4
    raises, v6 may not give a call away (V6_FALLBACK False, which also lifts
    its V6_MIN_LEN: these images are short). Returns the list of the orders
    v6 ran, in call order."""
    from mamba2_kernels.kernels import ssd_bwd as bwd, ssd_bwd_v6

    def no_v4(*a, **k):
        raise AssertionError("backward v4 ran: the cross scan's backward must run v6 here")

    calls = []
    real_v6 = ssd_bwd_v6._ssd_bwd_v6
    monkeypatch.setattr(bwd, "BWD_IMPL", "v6")
    monkeypatch.setattr(bwd, "_ssd_bwd_v4", no_v4)
    monkeypatch.setattr(ssd_bwd_v6, "V6_FALLBACK", False)
    monkeypatch.setattr(ssd_bwd_v6, "_ssd_bwd_v6", lambda *a, **k: calls.append(k["order"]) or real_v6(*a, **k))
    return calls


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("directions,height,width,heads,groups,merge,full,impl", [
    ("bidirectional", 1, 37, 4, 2, "buffer", True, "v4"),
    ("cross2d", 5, 7, 2, 2, "accumulate", True, "v6"),
    ("cross2d", 3, 5, 2, 1, "buffer", False, "v4"),
])
def test_cross_scan_gradients_match_autograd_through_the_float64_reference(
        device, poison, monkeypatch, dtype, directions, height, width, heads, groups, merge, full, impl):
    """impl: the SSD backward every order runs: v4 (short images: the default
    gives them to v4) or v6 alone (_backward_v6_only)."""
    tol = _tol(GRAD_TOL, device, dtype)
    calls = _backward_v6_only(monkeypatch) if impl == "v6" else None
    t, kw = cross_inputs(1, height, width, heads, 16, groups, 16, directions, device, dtype, full=full)
    got, ref = _grads(t, height, width, directions, kw, dtype, device, merge)
    if calls is not None:
        assert calls == [0, 1, 2, 3], f"backward v6 ran for the orders {calls}, not once for each of 0, 1, 2, 3"
    assert set(got) == ({"x", "dt", "A", "B", "C"} | ({"D", "z", "dt_bias"} if full else set()))
    errs = {}
    for k, r in ref.items():
        assert got[k] is not None and got[k].shape == r.shape, f"d{k}: missing or misshapen"
        assert r.abs().sum() > 0, f"d{k}: the reference gradient is all zeros: the test proves nothing"
        errs[k] = rel_err(got[k], r)
    bad = {k: f"{v:.2e}" for k, v in errs.items() if not v <= tol}
    assert not bad, f"relative errors above {tol:.0e}: {bad} (all: { {k: f'{v:.1e}' for k, v in errs.items()} })"


def test_two_cross_scan_backward_runs_give_bit_identical_gradients(device):
    t, kw = cross_inputs(1, 3, 5, 2, 16, 2, 16, "cross2d", device)
    runs = []
    dout = torch.randn(t["x"].shape, device=device)
    for _ in range(2):
        a = {k: t[k].clone().requires_grad_() for k in NAMES}
        _call(a, 3, 5, "cross2d", chunk_size=16, **kw).backward(dout)
        runs.append({k: a[k].grad.clone() for k in NAMES})
    for k in NAMES:
        assert torch.equal(runs[0][k], runs[1][k]), f"d{k} differs between two identical backward runs"


def _bad(t, **change):
    return {**t, **change}


@pytest.mark.parametrize("change,args,match", [
    ({}, dict(directions="forward"), r"directions must be one of \('bidirectional', 'cross2d'\).*'forward'"),
    ({}, dict(height=4), r"height \* width must equal seqlen: 4 \* 7 = 28 but x has seqlen 35"),
    ({}, dict(width=0), r"width must be a positive int, got 0"),
    ({"dt": "K2"}, {}, r"dt must have shape \[batch, K=4 orders of 'cross2d', seqlen, nheads\] = \(1, 4, 35, 4\)"),
    ({"A": "flat"}, {}, r"A must have shape \[K=4, nheads\] = \(4, 4\), got \(4,\)"),
    ({"D": "flat"}, {}, r"D must have shape \[K=4, nheads\] .*= \(4, 4\), got \(4,\)"),
    ({"dt_bias": "flat"}, {}, r"dt_bias must have shape \[K=4, nheads\] = \(4, 4\), got \(4,\)"),
    ({"B": "4d"}, {}, r"B must have shape \[batch, K=4, seqlen, ngroups, d_state\]"),
    ({"B": "g3", "C": "g3"}, {}, r"nheads 4 \(x.shape\[2\]\) is not a multiple of ngroups 3"),
    ({"C": "int"}, {}, r"C must be a floating point tensor, got torch.int64"),
    ({}, dict(merge="sum"), r"merge must be one of \('buffer', 'accumulate', 'chain'\) or None .*got 'sum'"),
    ({}, dict(chunk_size=24), r"chunk_size"),
])
def test_bad_cross_scan_inputs_are_refused_with_the_value_and_the_rule(device, change, args, match):
    t, _ = cross_inputs(1, 5, 7, 4, 8, 1, 8, "cross2d", device)
    made = {
        "K2": lambda: t["dt"][:, :2], "flat": lambda v: v[0],
        "4d": lambda: t["B"][:, 0], "g3": lambda v: torch.randn(1, 4, 35, 3, 8, device=device),
        "int": lambda v: v.long(),
    }
    for k, how in change.items():
        t[k] = made[how]() if how in ("K2", "4d") else made[how](t[k])
    a = {**dict(height=5, width=7, directions="cross2d"), **args}
    with pytest.raises((ValueError, TypeError), match=match):
        cross_scan_combined(t["x"], t["dt"], t["A"], t["B"], t["C"], a.pop("height"), a.pop("width"),
                            a.pop("directions"), D=t["D"], z=t["z"], dt_bias=t["dt_bias"], **a)


def test_cross_scan_reads_strided_views_as_a_vision_block_passes_them(device, poison):
    """x and z slices of one projection output, dt/B/C per-order views of
    [b, L, K, ...] tensors (order axis inside): the kernels read them through
    their strides, no copy, and gradients reach the parents."""
    b, H, W, h, p, g, n, K = 1, 3, 5, 2, 16, 2, 16, 4
    l = H * W
    xz = torch.randn(b, l, 2 * h * p + 3, device=device)
    dtp = torch.randn(b, l, K, h, device=device) - 2.0
    bc = torch.randn(b, l, K, 2, g, n, device=device)
    t, kw = cross_inputs(b, H, W, h, p, g, n, "cross2d", device)
    leaves = {"xz": xz, "dtp": dtp, "bc": bc, "A": t["A"], "D": t["D"], "dt_bias": t["dt_bias"]}
    dout = torch.randn(b, l, h, p, device=device)
    runs = []
    for ref in (False, True):
        lv = {k: (v.double() if ref else v).clone().requires_grad_() for k, v in leaves.items()}
        x = lv["xz"][..., :h * p].unflatten(-1, (h, p))
        z = lv["xz"][..., h * p:2 * h * p].unflatten(-1, (h, p))
        dt = lv["dtp"].transpose(1, 2)
        B, C = lv["bc"].transpose(1, 2).unbind(3)
        assert not x.is_contiguous() and not dt.is_contiguous() and not B.is_contiguous()
        a = dict(x=x, dt=dt, A=lv["A"], B=B, C=C, D=lv["D"], z=z, dt_bias=lv["dt_bias"])
        out = (_ref if ref else _call)(a, H, W, "cross2d", **kw)
        out.backward(dout.to(out.dtype))
        runs.append((out, {k: v.grad for k, v in lv.items()}))
    assert rel_err(runs[0][0], runs[1][0]) <= FWD_TOL[(device, torch.float32)]
    for k in leaves:
        assert rel_err(runs[0][1][k], runs[1][1][k]) <= GRAD_TOL[(device, torch.float32)], f"d{k}"


# ---- merge 'chain' (cross_scan.py): each order adds into the earlier orders' sum in another
# buffer, the last order's epilogue is the merge (skip, ysum, gate); no merge kernel ----

@pytest.mark.parametrize("directions,height,width,path", [
    ("bidirectional", 3, 7, "one-launch"), ("cross2d", 5, 7, "pre"),
])
def test_the_chain_merge_gives_the_reference_output_and_gradients_and_the_buffer_merges_output(
        device, poison, force_path, directions, height, width, path):
    """K = 2 and 4 on a 3 x 7 / 5 x 7 image (21, 35 tokens: 2 and 3 tiles of 16, the last partial),
    D, z, dt_bias, ngroups 2; the forward runs with grad, so the last order also writes ysum, and
    the gradients (dz reads ysum) go against the float64 reference. One fused path each (the
    one-launch kernel and the transposed walk both hold the chain epilogue); the default-merge
    forward test above runs 'chain' on all three."""
    force_path(path)
    t, kw = cross_inputs(1, height, width, 2, 16, 2, 16, directions, device)
    got, ref = _grads(t, height, width, directions, kw, torch.float32, device, merge="chain")
    tol = FWD_TOL[(device, torch.float32)]
    errs = {k: rel_err(got[k], ref[k]) for k in NAMES}
    bad = {k: f"{v:.1e}" for k, v in errs.items() if not v <= tol}
    assert not bad, f"chain-merge gradients off the float64 reference (tol {tol:.0e}): {bad}"
    with torch.no_grad():
        out = _call(t, height, width, directions, chunk_size=16, merge="chain", **kw)
        buf = _call(t, height, width, directions, chunk_size=16, merge="buffer", **kw)
    assert out.dtype == t["x"].dtype and torch.isfinite(out).all()
    assert rel_err(out, _ref(t, height, width, directions, **kw)) <= tol
    assert rel_err(out, buf) <= 1e-6, "chain and buffer sum the same y_k, in another order only"


def test_the_chain_merge_runs_any_number_of_orders_from_one_to_four(device, poison):
    """_cross_fwd with K = 1, 3 (no directions give them) against merge 'buffer' (checked above)."""
    from mamba2_kernels.cross_scan import _cross_fwd

    t, kw = cross_inputs(1, 3, 5, 2, 16, 1, 16, "cross2d", device)
    for orders in ((3,), (0, 1, 3)):
        K = len(orders)
        a = dict(x=t["x"], dt=t["dt"][:, :K], A=t["A"][:K], B=t["B"][:, :K], C=t["C"][:, :K], D=t["D"][:K],
                 z=t["z"], dt_bias=t["dt_bias"][:K])
        runs = {m: _cross_fwd(*(a[k] for k in ("x", "dt", "A", "B", "C", "D", "z", "dt_bias")), 3, 5, orders,
                              True, (0.0, math.inf), 16, m, keep_ysum=True) for m in ("chain", "buffer")}
        for i, what in enumerate(("out", "ysum")):
            assert rel_err(runs["chain"][i], runs["buffer"][i]) <= 1e-6, f"K={K} {what}"


class _Walks:
    """Wraps the transposed walk kernel: records each launch's chain arguments and its flags after it ran."""

    def __init__(self, real):
        self.real, self.launches = real, []

    def __getitem__(self, grid):
        def launch(*args, **kw):
            self.real[grid](*args, **kw)
            self.launches.append((kw.get("PREV", False), kw.get("STORE_YSUM", False), int(args[13].sum())))
        return launch


def test_a_non_finite_value_in_one_orders_input_gives_the_chain_merge_the_buffer_merges_output(
        device, poison, monkeypatch, force_path):
    """A NaN in B of order 1 (a middle order) and an Inf in dt of order 3 (the last one, the merge's
    epilogue) flag their programs, which walk again exactly: the chain re-walk must write prev + y
    (prev is never written in place), so its outputs, NaN pattern and finite values, are the buffer
    merge's (whose orders walk the same way, each into its own y_k)."""
    from mamba2_kernels.kernels import ssd_fused

    force_path("pre")
    t, kw = cross_inputs(1, 5, 7, 2, 16, 2, 16, "cross2d", device)
    t["B"][0, 1, 20, 1, 3] = float("nan")  # order 1, column-major: scan position 4 * 5 + 2 = 22 of 35
    t["dt"][0, 3, 9, 0] = float("inf")  # order 3: head 0 from scan position 35 - 1 - (4 * 5 + 1) = 13 on
    a = {k: t[k].clone().requires_grad_() for k in NAMES}  # with grad: the last order writes ysum too
    rec = _Walks(ssd_fused._ssd_fused_T_kernel)
    monkeypatch.setattr(ssd_fused, "_ssd_fused_T_kernel", rec)
    out = _call(a, 5, 7, "cross2d", chunk_size=16, merge="chain", **kw).detach()
    chain_walks = rec.launches
    rec.launches = []
    buf = _call(t, 5, 7, "cross2d", chunk_size=16, merge="buffer", **kw)
    assert [(p, s) for p, s, _ in chain_walks] == [(False, False), (True, False), (True, False), (True, True)]
    assert [n > 0 for _, _, n in chain_walks] == [False, True, False, True], "the bad orders re-walk"
    assert [n > 0 for _, _, n in rec.launches] == [False, True, False, True]
    bad = ~torch.isfinite(buf)
    assert bad.any() and (~bad).any()
    assert torch.equal(~torch.isfinite(out), bad), "non-finite elements differ from the buffer merge's"
    assert torch.equal(torch.isnan(out), torch.isnan(buf))
    assert rel_err(out[~bad], buf[~bad]) <= 1e-6
