"""The SSD backward versions (kernels/ssd_bwd.py: v4; ssd_bwd_T.py: v5s, the
transposed chunk kernel in two launches; v5, its one-launch form, was removed)
against torch autograd through the float64 sequential reference
(mamba2_runner.reference.scan.ref_scan).

test_grad.py checks the default version through ssd_scan_autograd at every
option; here each version is called directly with launch settings that reach
the paths one default launch does not: several head splits of a group, several
p-blocks inside the head loop, tiles of 16 and 32, and states kept in fp32 or
in the input dtype. Error per gradient: ||tri - ref|| / ||ref||, NaN/inf fail;
cpu fp32 tolerance 1e-4 (interpreter: exact fp32 dots), cuda bf16 3e-2.
Outputs come from torch.empty, which the poison fixture fills with NaN, so an
element a kernel forgets to write fails.
"""
from __future__ import annotations

import math

import pytest
import torch

from mamba2_kernels.kernels import ssd_bwd as bwd
from mamba2_runner.reference.cross_scan import perm_tokens, unperm_tokens
from mamba2_runner.reference.scan import ref_scan

F64 = torch.float64
NAMES = {"x": "dx", "dt": "ddt", "A": "dA", "B": "dB", "C": "dC", "D": "dD", "z": "dz",
         "dt_bias": "ddt_bias", "initial_states": "dinitial_states"}


def _inputs(b, l, h, p, g, n, *, D=None, z=False, bias=False, init=False, seq=False):
    inp = {
        "x": torch.randn(b, l, h, p),
        "dt": torch.randn(b, l, h) - 3.0 if bias else torch.rand(b, l, h) * 0.2 + 0.005,
        "A": -torch.exp(torch.empty(h).uniform_(math.log(0.05), math.log(2.0))),
        "B": torch.randn(b, l, g, n),
        "C": torch.randn(b, l, g, n),
        "D": {"h": torch.randn(h), "hp": torch.randn(h, p)}.get(D),
        "z": torch.randn(b, l, h, p) if z else None,
        "dt_bias": torch.rand(h) * 2.0 - 1.0 if bias else None,
        "initial_states": torch.randn(b, h, p, n) if init else None,
    }
    seq_idx = None
    if seq:  # packed sequences: one change mid-tile, one on a tile start (32), one late
        seq_idx = torch.zeros(b, l, dtype=torch.int32)
        seq_idx[0, 32:] = 1
        seq_idx[0, 45:] = 2
        seq_idx[-1, l // 3:] = 1
    return {k: v for k, v in inp.items() if v is not None}, seq_idx


def _check(device, dtype, tol, shape, opts, launch, final=False, image=None):
    """image (order, height, width): the scan in that order over the image's
    row-major tokens (ssd_common.token_index); the reference scans explicitly
    permuted copies (reference.cross_scan.perm_tokens) and permutes its output
    back, so it shares nothing with the kernels' index maps."""
    inp, seq_idx = _inputs(*shape, **opts)
    consts = dict(dt_softplus=True, dt_limit=(0.002, 0.15)) if opts.get("bias") else {}
    ref_in = {k: v.to(device=device, dtype=F64).requires_grad_() for k, v in inp.items()}
    seq = seq_idx.to(device) if seq_idx is not None else None
    perm = unperm = (lambda t: t)
    if image is not None:
        order, height, width = image
        perm = lambda t: perm_tokens(t, height, width, order)  # noqa: E731
        unperm = lambda t: unperm_tokens(t, height, width, order)  # noqa: E731
        launch = dict(launch, order=order, height=height, width=width)
    tokens = ("x", "dt", "B", "C", "z")
    out, fin = ref_scan(**{k: perm(ref_in[k]) if k in tokens else ref_in[k] for k in ("x", "dt", "A", "B", "C")},
                        **{k: perm(v) if k in tokens else v for k, v in ref_in.items()
                           if k not in ("x", "dt", "A", "B", "C")},
                        seq_idx=seq, return_final_states=True, **consts)
    out = unperm(out)
    dout = torch.randn_like(out)
    dfin = torch.randn_like(fin) if final else None
    ((out * dout).sum() + ((fin * dfin).sum() if final else 0.0)).backward()

    low = {k: (v.to(device=device, dtype=dtype) if k in ("x", "B", "C", "z") else v.to(device))
           for k, v in inp.items()}
    g = bwd.ssd_bwd(dout.to(dtype), low["x"], low["dt"], low["A"], low["B"], low["C"],
                    D=low.get("D"), z=low.get("z"), dt_bias=low.get("dt_bias"),
                    initial_states=low.get("initial_states"), seq_idx=seq,
                    dfinal_states=dfin.float() if final else None, **consts, **launch)
    errs = {}
    for k, r in ref_in.items():
        t = g[NAMES[k]]
        assert t is not None, f"{NAMES[k]}: the backward returned no gradient"
        assert t.shape == r.grad.shape, f"{NAMES[k]}: shape {tuple(t.shape)} != {tuple(r.grad.shape)}"
        t = t.detach().to(F64).cpu()
        ref = r.grad.cpu()
        errs[NAMES[k]] = (t - ref).norm().item() / ref.norm().item() if torch.isfinite(t).all() else math.inf
    bad = {k: f"{v:.2e}" for k, v in errs.items() if not v <= tol}
    assert not bad, f"relative errors above {tol:.0e}: {bad} (all: { {k: f'{v:.1e}' for k, v in errs.items()} })"


CASES = [
    # shape (b, l, h, p, g, n), options, launch, d final_states
    pytest.param((1, 40, 4, 40, 1, 16), dict(D="hp", z=True, bias=True, init=True, seq=True),
                 dict(impl="v4", block_q=16, block_p=16, nsplit=2), True,
                 id="v4-all-options-two-splits-of-two-heads-three-p-blocks-Q16-L40"),
    pytest.param((1, 24, 4, 24, 1, 16), dict(D="h", z=True, bias=True, init=True, seq=True),
                 dict(impl="v5s", block_q=16, block_p=16, nsplit=2), True,
                 id="v5s-transposed-chunk-kernel-in-two-launches-all-options-Q16-L24"),
    pytest.param((1, 24, 4, 24, 2, 16), dict(D="hp", z=True, bias=True, init=True, seq=True),
                 dict(impl="v5s", block_q=16, block_p=16), True,
                 id="v5s-per-channel-D-and-two-groups-Q16-L24"),
    pytest.param((1, 70, 4, 16, 2, 16), dict(D="hp", bias=True, init=True),
                 dict(impl="v6", chunk=64, block=16, walk_tile=16, fallback=False), True,
                 id="v6-states-every-64-four-blocks-walk-tiles-of-16-two-groups-per-channel-D-L70"),
    pytest.param((2, 40, 3, 24, 1, 32), dict(D="h"),
                 dict(impl="v6", chunk=32, block=16, fallback=False), False,
                 id="v6-one-group-of-three-heads-headdim-24-L40"),
    pytest.param((2, 70, 2, 16, 1, 16), dict(D="h", bias=True, init=True, seq=True),
                 dict(impl="v6", chunk=64, block=16, walk_tile=32, fallback=False, allow_seq_idx=True), True,
                 id="v6-seq-idx-changes-mid-block-and-at-a-block-start"),
    pytest.param((2, 70, 2, 16, 2, 16), dict(D="hp", seq=True),
                 dict(impl="v6", chunk=32, block=16, fallback=False, allow_seq_idx=True), True,
                 id="v6-seq-idx-change-at-a-chunk-start-two-groups"),
    pytest.param((1, 64, 4, 16, 1, 16), dict(D="h", bias=True),
                 dict(impl="v6", chunk=64, block=32, nsplit=2, fallback=False), True,
                 id="v6-pair-kernel-heads-split-in-two-W-partials-summed"),
]


@pytest.mark.parametrize("shape,opts,launch,final", CASES)
def test_each_backward_version_matches_float64_autograd(device, poison, shape, opts, launch, final):
    _check(device, torch.float32, 1e-4 if device == "cpu" else 1e-3, shape, opts, launch, final)


# Scan orders 1-3 over a non-square image (cross scans, cross_scan.py): 11 x 19 = 209 tokens, two chunks
# of 128 (the second 81 long: not a multiple of the chunk or of the 64-row block), so the column-major
# orders' rows jump W apart inside a block and across block, chunk and walk-tile starts; two groups (of one
# head: the sums over a group's heads do not depend on the order and are checked above), dt_bias +
# softplus + limit, initial states and d final_states. fallback=False: a call v6 gave to v4 would raise
# (V6_MIN_LEN gates only the fallback, so L 209 < 512 stays in v6 without lowering it).
ORDER_CASES = [
    pytest.param(1, "hp", id="order-1-column-major-per-channel-D"),
    pytest.param(2, "h", id="order-2-row-major-reversed-per-head-D"),
    pytest.param(3, "hp", id="order-3-column-major-reversed-per-channel-D"),
]


@pytest.mark.parametrize("order,D", ORDER_CASES)
def test_v6_in_another_scan_order_matches_float64_autograd_on_permuted_copies(device, poison, order, D):
    _check(device, torch.float32, 1e-4 if device == "cpu" else 1e-3, (1, 11 * 19, 2, 16, 2, 16),
           dict(D=D, bias=True, init=True), dict(impl="v6", fallback=False), True, image=(order, 11, 19))


def test_v4_with_bf16_states_matches_float64_autograd_on_cuda(device, poison):
    if device != "cuda":
        pytest.skip("bf16 dots run on CUDA only")
    _check(device, torch.bfloat16, 3e-2, (2, 1000, 8, 64, 2, 128),
           dict(D="h", z=True, bias=True, init=True, seq=True), dict(impl="v4"), True)


def test_v4_split_count_divides_the_heads_of_a_group():
    assert bwd._pick_nsplit(80, 256, 528) == 4
    assert bwd._pick_nsplit(8, 2048, 528) == 1
    assert bwd._pick_nsplit(7, 10, 528) == 7


@pytest.mark.parametrize("impl,message", [("v3", "was removed"), ("v5", "was removed"),
                                          ("v9", "must be 'v6', 'v5s' or 'v4'")])
def test_an_unknown_or_removed_backward_version_is_refused_naming_the_fix(impl, message):
    from mamba2_kernels.kernels.ssd_bwd import ssd_bwd

    x = torch.randn(1, 8, 1, 16)
    with pytest.raises(ValueError, match=message) as e:
        ssd_bwd(x, x, torch.rand(1, 8, 1), -torch.rand(1), torch.randn(1, 8, 1, 16), torch.randn(1, 8, 1, 16),
                impl=impl)
    assert "impl=" in str(e.value)


def _v6_inputs(device, nan_at=None):
    torch.manual_seed(7)
    b, l, h, p, g, n = 1, 40, 2, 16, 1, 16
    x = torch.randn(b, l, h, p)
    if nan_at == "x":
        x[0, 20, 1, 3] = float("nan")
    dt = torch.rand(b, l, h) * 0.2 + 0.005
    if nan_at == "dt":
        dt[0, 33, 0] = float("inf")  # a state reset: dt * A = -inf
    args = (torch.randn(b, l, h, p), x, dt, -torch.rand(h) - 0.1, torch.randn(b, l, g, n), torch.randn(b, l, g, n))
    return tuple(t.to(device) for t in args)


@pytest.mark.parametrize("bad", ["x", "dt"])
def test_v6_gives_a_call_with_a_non_finite_input_or_a_state_reset_to_v4_bit_for_bit(device, bad):
    args = _v6_inputs(device, bad)
    g6 = bwd.ssd_bwd(*args, impl="v6", chunk=32, block=16)
    g4 = bwd.ssd_bwd(*args, impl="v4")
    for k in ("dx", "ddt", "dA", "dB", "dC"):
        assert torch.equal(g6[k].nan_to_num(7.0), g4[k].nan_to_num(7.0)), k
    assert not torch.isfinite(g6["dx"]).all() or not torch.isfinite(g6["ddt"]).all()
    with pytest.raises(ValueError, match="impl='v4'"):
        bwd.ssd_bwd(*args, impl="v6", chunk=32, block=16, fallback=False)


def test_v6_refuses_what_it_does_not_compute_when_told_not_to_fall_back(device):
    dout, x, dt, A, B, C = _v6_inputs(device)
    with pytest.raises(ValueError, match="z, a scan order outside 0..3"):
        bwd.ssd_bwd(dout, x, dt, A, B, C, z=torch.randn_like(x), impl="v6", fallback=False)
    seq_idx = torch.zeros(x.shape[:2], dtype=torch.int32, device=device)
    with pytest.raises(ValueError, match="with a scan order other than 0"):  # an image has no packed sequences
        bwd.ssd_bwd(dout, x, dt, A, B, C, seq_idx=seq_idx, order=1, height=5, width=8, impl="v6", fallback=False,
                    allow_seq_idx=True)
    g6 = bwd.ssd_bwd(dout, x, dt, A, B, C, impl="v6", chunk=32, block=16, fallback=False)
    g4 = bwd.ssd_bwd(dout, x, dt, A, B, C, impl="v4")
    tol = 1e-5 if device == "cpu" else 1e-3  # two different computations, fp32 (tf32 dots on cuda)
    assert (g6["dx"] - g4["dx"]).norm() / g4["dx"].norm() < tol


def test_the_default_backward_through_autograd_is_v6_and_matches_float64(device, poison, monkeypatch):
    from mamba2_kernels import autograd as ag
    from mamba2_kernels.kernels import ssd_bwd_v6

    monkeypatch.setattr(ssd_bwd_v6, "V6_MIN_LEN", 0)  # the tiny test shape would go to v4
    monkeypatch.setattr(ssd_bwd_v6, "V6_FALLBACK", False)  # and must not: a call v6 gives away raises
    monkeypatch.setattr(bwd, "BWD_IMPL", "v6")
    torch.manual_seed(3)
    b, l, h, p, g, n = 1, 150, 2, 16, 1, 16
    inp = {"x": torch.randn(b, l, h, p), "dt": torch.randn(b, l, h) - 3.0,
           "A": -torch.rand(h) - 0.2, "B": torch.randn(b, l, g, n), "C": torch.randn(b, l, g, n),
           "D": torch.randn(h), "dt_bias": torch.rand(h) - 0.5}
    ref = {k: v.to(device=device, dtype=F64).requires_grad_() for k, v in inp.items()}
    out = ref_scan(ref["x"], ref["dt"], ref["A"], ref["B"], ref["C"], D=ref["D"], dt_bias=ref["dt_bias"],
                   dt_softplus=True)
    dout = torch.randn_like(out)
    (out * dout).sum().backward()
    tri = {k: v.to(device).requires_grad_() for k, v in inp.items()}
    o = ag.ssd_scan_autograd(tri["x"], tri["dt"], tri["A"], tri["B"], tri["C"], 128, D=tri["D"],
                             dt_bias=tri["dt_bias"], dt_softplus=True)
    grads = torch.autograd.grad(o, list(tri.values()), dout.to(o.dtype))
    tol = 1e-4 if device == "cpu" else 1e-2  # fp32 inputs; tf32 dots on cuda
    for k, t in zip(tri, grads):
        err = (t.double() - ref[k].grad).norm().item() / ref[k].grad.norm().item()
        assert err <= tol, f"d{k}: {err:.2e}"
