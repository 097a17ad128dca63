"""Gradients of the library's backward kernels (mamba2_kernels.autograd)
against torch autograd through the independent float64 references:
ref_scan (reference/scan.py, the sequential recurrence) for the SSD scan,
and small float64 autograd-able formulas written here from MAMBA2.md for
conv and norm (reference/ops.py detaches its inputs, so it cannot be
differentiated).

Error measure per named gradient: ||tri - ref|| / ||ref|| (NaN/inf never
pass). The generated side runs on inputs rounded to the test dtype; the
reference sees the same rounded values in float64, so the error is the
kernels' own. (The whole generated block's gradients are checked in
packages/runner/python/tests/test_module_grad.py.) Tolerances per (device, dtype):
  cpu fp32 1e-4  (interpreter: exact fp32 dots; measured ~1e-6)
  cuda fp32 1e-3 (IEEE dots in the backward, fp32 accumulation)
  cuda bf16 3e-2 (bf16 inputs and dx/dz outputs, tf32 dots)
Inputs are fresh random data each run (seed in the pytest header); buffers
the backward allocates with torch.empty start as NaN, so an element a kernel
forgets to write fails.
"""
from __future__ import annotations

import math

import pytest
import torch

from mamba2_runner.pkgload import select_device
from mamba2_runner.reference.scan import ref_scan
from mamba2_runner.checks import rel_err as _rel_err

select_device()  # TRITON_INTERPRET before the kernels are imported

import mamba2_kernels.autograd  # noqa: E402

TOL = {
    ("cpu", torch.float32): 1e-4,
    ("cuda", torch.float32): 1e-3,
    ("cuda", torch.bfloat16): 3e-2,
}
F64 = torch.float64


# ------------------------------------------------------------------ helpers


@pytest.fixture(scope="module")
def ag():
    return mamba2_kernels.autograd


def _tol(device, dtype):
    if (device, dtype) not in TOL:
        pytest.skip(f"{dtype} cases run on CUDA only")
    return TOL[(device, dtype)]


def rel_err(tri: torch.Tensor, ref: torch.Tensor) -> float:
    assert ref.detach().abs().sum().item() > 0, "the reference gradient is all zeros: the test proves nothing"
    return _rel_err(tri.detach().cpu(), ref.detach().cpu())


def assert_grads_close(tri: dict, ref: dict, tol: float) -> None:
    errs = {}
    for name, r in ref.items():
        t = tri[name]
        assert t is not None, f"d{name}: the generated backward returned no gradient"
        assert t.shape == r.shape, f"d{name}: shape {tuple(t.shape)} != reference {tuple(r.shape)}"
        errs[name] = rel_err(t, r)
    bad = {k: f"{v:.2e}" for k, v in errs.items() if not v <= tol}
    assert not bad, f"relative errors above {tol:.0e}: {bad} (all: { {k: f'{v:.1e}' for k, v in errs.items()} })"


def run_both(tri_fn, ref_fn, inputs: dict, diff: list, dtype, device, consts=None):
    """Run tri_fn on `inputs` (floating ones in `dtype`, except those kept
    fp32) and ref_fn on the same values in float64; backward a random
    cotangent through every output; return (tri grads, ref grads) by name."""
    consts = consts or {}
    tri_in, ref_in = {}, {}
    for k, v in inputs.items():
        if v is None:
            tri_in[k] = ref_in[k] = None
            continue
        t = v.to(device)
        if k in diff:
            t = t.detach().requires_grad_()
        tri_in[k] = t
        r = v.to(device=device, dtype=F64) if v.is_floating_point() else v.to(device)
        ref_in[k] = r.detach().requires_grad_() if k in diff else r
    tri_out = tri_fn(**tri_in, **consts)
    ref_out = ref_fn(**ref_in, **consts)
    tri_out = tri_out if isinstance(tri_out, tuple) else (tri_out,)
    ref_out = ref_out if isinstance(ref_out, tuple) else (ref_out,)
    cots = [torch.randn(o.shape, device=device, dtype=F64) for o in ref_out]
    sum(((o.to(F64) * c).sum() for o, c in zip(tri_out, cots))).backward()
    sum(((o * c).sum() for o, c in zip(ref_out, cots))).backward()
    tri_g = {k: tri_in[k].grad for k in diff}
    ref_g = {k: ref_in[k].grad for k in diff}
    return tri_g, ref_g


# ------------------------------------------------------------------ SSD scan


def scan_inputs(b, l, h, p, g, n, dtype, *, D=None, z=False, dt_bias=False, init=False, seq=False):
    """Random inputs in a trained block's ranges; A * dt small enough that the
    state carries across chunks. Low-precision tensors are rounded once here."""
    inp = {
        "x": torch.randn(b, l, h, p).to(dtype),
        "dt": (torch.randn(b, l, h) - 3.0 if dt_bias else torch.rand(b, l, h) * 0.2 + 0.005).to(dtype),
        "A": -torch.exp(torch.empty(h).uniform_(math.log(0.05), math.log(2.0))),
        "B": torch.randn(b, l, g, n).to(dtype),
        "C": torch.randn(b, l, g, n).to(dtype),
        "D": None,
        "z": torch.randn(b, l, h, p).to(dtype) if z else None,
        "dt_bias": torch.rand(h) * 2.0 - 1.0 if dt_bias else None,
        "initial_states": torch.randn(b, h, p, n) if init else None,
        "seq_idx": None,
    }
    if D == "h":
        inp["D"] = torch.randn(h)
    elif D == "hp":
        inp["D"] = torch.randn(h, p)
    if seq:
        # packed sequences; one boundary lands exactly on a chunk start (32)
        s = torch.zeros(b, l, dtype=torch.int32)
        s[0, 32:] = 1
        s[0, 45:] = 2
        s[-1, l // 3:] = 1
        inp["seq_idx"] = s
    return inp


def _tri_scan(ag, chunk, impl=None):
    def fn(**kw):
        return ag.ssd_scan_autograd(
            kw.pop("x"), kw.pop("dt"), kw.pop("A"), kw.pop("B"), kw.pop("C"), chunk, **kw, impl=impl
        )
    return fn


def _ref_scan(**kw):
    return ref_scan(kw.pop("x"), kw.pop("dt"), kw.pop("A"), kw.pop("B"), kw.pop("C"), **kw)


SCAN_CASES = [
    # id, shape (b, l, h, p, g, n), chunk, options
    pytest.param((2, 100, 4, 16, 2, 16), 32, {}, id="plain-B2-L100-H4-P16-G2-N16-Q32"),
    pytest.param((2, 100, 4, 16, 2, 16), 32, dict(D="h", z=True, dt_bias=True, init=True, seq=True, final=True),
                 id="all-options-Dh-B2-L100-H4-P16-G2-N16-Q32"),
    # seqlen 1: one partial tile, the initial state and the final one a single step apart (the runner's
    # test_verify_grads.py runs the generated examples at a longer sequence only)
    pytest.param((2, 1, 4, 16, 2, 16), 32, dict(D="hp", z=True, dt_bias=True, init=True, final=True),
                 id="seqlen-1-all-options-B2-L1-H4-P16-G2-N16-Q32"),
    pytest.param((1, 77, 2, 32, 1, 16), 16, dict(D="hp", dt_bias=True, init=True, final=True),
                 id="Dhp-init-final-B1-L77-H2-P32-G1-N16-Q16"),
    pytest.param((2, 64, 4, 16, 4, 32), 64, dict(D="h", z=True, seq=True), id="seq-z-B2-L64-H4-P16-G4-N32-Q64"),
    # headdim 80: two p-blocks (64 + a masked 16), so the partial sums over p are exercised
    pytest.param((1, 40, 2, 80, 1, 16), 32, dict(D="hp", z=True, init=True, final=True),
                 id="two-p-blocks-B1-L40-H2-P80-G1-N16-Q32"),
]
CUDA_SCAN_CASES = [
    pytest.param((2, 1000, 8, 64, 2, 128), 256, dict(D="h", z=True, dt_bias=True, init=True, seq=True, final=True),
                 id="all-options-B2-L1000-H8-P64-G2-N128-Q256"),
    pytest.param((1, 2048, 4, 80, 1, 64), 128, dict(D="hp", dt_bias=True), id="Dhp-B1-L2048-H4-P80-G1-N64-Q128"),
]


def _check_scan(ag, device, dtype, shape, chunk, opts, impl=None):
    tol = _tol(device, dtype)
    opts = dict(opts)
    final = opts.pop("final", False)
    inp = scan_inputs(*shape, dtype, **opts)
    consts = {"dt_softplus": True, "dt_limit": (0.002, 0.15)} if opts.get("dt_bias") else {}
    consts["return_final_states"] = final
    diff = [k for k, v in inp.items() if v is not None and k != "seq_idx"]
    tri, ref = run_both(_tri_scan(ag, chunk, impl), _ref_scan, inp, diff, dtype, device, consts)
    assert_grads_close(tri, ref, tol)


@pytest.mark.parametrize("shape,chunk,opts", SCAN_CASES)
def test_scan_gradients_match_autograd_through_the_sequential_reference(ag, device, poison, shape, chunk, opts):
    _check_scan(ag, device, torch.float32, shape, chunk, opts)


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16], ids=["fp32", "bf16"])
@pytest.mark.parametrize("shape,chunk,opts", CUDA_SCAN_CASES)
def test_scan_gradients_match_the_reference_on_cuda_at_larger_shapes(ag, device, poison, dtype, shape, chunk, opts):
    if device != "cuda":
        pytest.skip("larger shapes run on CUDA only")
    _check_scan(ag, device, dtype, shape, chunk, opts)


def test_scan_gradients_are_right_when_the_forward_runs_the_chunked_kernels(ag, device):
    _check_scan(ag, device, torch.float32, (1, 70, 2, 16, 1, 16), 32, dict(D="h", z=True), impl="chunked")


def test_dt_gradient_is_exactly_zero_where_dt_is_clamped(ag, device):
    inp = scan_inputs(1, 50, 2, 16, 1, 16, torch.float32, dt_bias=True)
    x, dt, A, B, C = (inp[k].to(device) for k in ("x", "dt", "A", "B", "C"))
    bias = inp["dt_bias"].to(device)
    lim = (0.03, 0.08)
    dt.requires_grad_()
    out = ag.ssd_scan_autograd(x, dt, A, B, C, 16, dt_bias=bias, dt_softplus=True, dt_limit=lim)
    out.backward(torch.randn_like(out))
    v = torch.nn.functional.softplus(dt.detach() + bias)
    clamped = (v < lim[0]) | (v > lim[1])
    assert clamped.any() and (~clamped).any(), "the inputs must exercise both sides of the clamp"
    assert torch.all(dt.grad[clamped] == 0)
    assert torch.all(dt.grad[~clamped] != 0)


def test_two_backward_runs_give_bit_identical_gradients(ag, device):
    # every reduction the backward does across programs has two of them on CPU:
    # two batches and two chunks (dA, dD, ddt_bias), two heads in one group (dB, dC)
    shape, chunk = ((2, 64, 2, 16, 1, 16), 32) if device == "cpu" else ((4, 2048, 16, 64, 2, 128), 64)
    inp = scan_inputs(*shape, torch.float32, D="h", z=True, dt_bias=True, init=True)
    diff = [k for k, v in inp.items() if v is not None]
    runs = []
    dout = None
    for _ in range(2):
        t = {k: (v.to(device).clone().requires_grad_() if k in diff else v) for k, v in inp.items()}
        out = _tri_scan(ag, chunk)(**t, dt_softplus=True)
        dout = torch.randn_like(out) if dout is None else dout
        out.backward(dout)
        runs.append({k: t[k].grad.clone() for k in diff})
    for k in runs[0]:
        assert torch.equal(runs[0][k], runs[1][k]), f"d{k} differs between two identical backward runs"


# ------------------------------------------------------------------ conv


def ref_conv(x, weight, bias, activation):
    """float64, differentiable: depthwise causal conv as a sum of shifted taps."""
    L, W = x.shape[1], weight.shape[1]
    out = torch.zeros_like(x)
    for k in range(W):
        s = W - 1 - k
        out = out + torch.nn.functional.pad(x, (0, 0, s, 0))[:, :L, :] * weight[:, k]
    if bias is not None:
        out = out + bias
    return out * torch.sigmoid(out) if activation == "silu" else out


@pytest.mark.parametrize("activation", ["silu", "identity"])
@pytest.mark.parametrize("width", [2, 4, 7])
@pytest.mark.parametrize("has_bias", [True, False], ids=["bias", "nobias"])
def test_conv_gradients_match_autograd_through_a_float64_conv(ag, device, poison, width, has_bias, activation):
    tol = _tol(device, torch.float32)
    Bsz, L, C = 2, 70, 40
    inp = {"x": torch.randn(Bsz, L, C), "weight": torch.randn(C, width) / math.sqrt(width),
           "bias": torch.randn(C) if has_bias else None}
    diff = [k for k, v in inp.items() if v is not None]
    tri, ref = run_both(ag.causal_conv1d_autograd, ref_conv, inp, diff, torch.float32, device,
                        {"activation": activation})
    assert_grads_close(tri, ref, tol)


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16], ids=["fp32", "bf16"])
def test_conv_gradient_reaches_a_strided_slice_and_the_conv1d_weight_layout(ag, device, dtype):
    tol = _tol(device, dtype)
    Bsz, L, C, W = 3, 45, 72, 4
    big = torch.randn(Bsz, L, 24 + C + 8, device=device).to(dtype).requires_grad_()
    w3 = (torch.randn(C, 1, W, device=device) / 2).to(dtype).requires_grad_()
    bias = torch.randn(C, device=device).to(dtype).requires_grad_()
    big64, w64, b64 = (t.detach().to(F64).requires_grad_() for t in (big, w3, bias))
    out = ag.causal_conv1d_autograd(big[:, :, 24:24 + C], w3, bias, activation="silu")
    ref = ref_conv(big64[:, :, 24:24 + C], w64[:, 0, :], b64, "silu")
    cot = torch.randn_like(ref)
    (out.to(F64) * cot).sum().backward()
    (ref * cot).sum().backward()
    assert_grads_close({"u": big.grad, "weight": w3.grad, "bias": bias.grad},
                       {"u": big64.grad, "weight": w64.grad, "bias": b64.grad}, tol)


# ------------------------------------------------------------------ norm


def ref_norm(y, weight, z=None, eps=1e-5, group_size=None, norm_before_gate=False):
    D = y.shape[-1]
    G = D if group_size is None else group_size
    if z is not None and not norm_before_gate:
        y = y * z * torch.sigmoid(z)
    g = y.reshape(*y.shape[:-1], D // G, G)
    out = (g / torch.sqrt(g.pow(2).mean(-1, keepdim=True) + eps)).reshape(y.shape) * weight
    if z is not None and norm_before_gate:
        out = out * z * torch.sigmoid(z)
    return out


@pytest.mark.parametrize("group_size", [None, 16], ids=["G-all", "G16"])
@pytest.mark.parametrize("mode", ["gate-first", "norm-first", "no-z"])
def test_norm_gradients_match_autograd_through_a_float64_norm(ag, device, poison, mode, group_size):
    tol = _tol(device, torch.float32)
    Bsz, L, D = 2, 33, 64
    inp = {"y": torch.randn(Bsz, L, D), "weight": 1.0 + 0.5 * torch.randn(D),
           "z": torch.randn(Bsz, L, D) if mode != "no-z" else None}
    diff = [k for k, v in inp.items() if v is not None]
    consts = {"eps": 1e-5, "group_size": group_size, "norm_before_gate": mode == "norm-first"}
    tri, ref = run_both(ag.rmsnorm_gated_autograd, ref_norm, inp, diff, torch.float32, device, consts)
    assert_grads_close(tri, ref, tol)


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16], ids=["fp32", "bf16"])
def test_norm_gradients_on_many_rows_reduce_dweight_across_programs(ag, device, dtype):
    tol = _tol(device, dtype)
    Bsz, L, D = (2, 100, 96) if device == "cpu" else (8, 4096, 1024)
    inp = {"y": torch.randn(Bsz, L, D).to(dtype), "weight": (1.0 + 0.5 * torch.randn(D)).to(dtype),
           "z": torch.randn(Bsz, L, D).to(dtype)}
    tri, ref = run_both(ag.rmsnorm_gated_autograd, ref_norm, inp, ["y", "weight", "z"], dtype, device,
                        {"eps": 1e-5, "group_size": D // 2, "norm_before_gate": False})
    assert_grads_close(tri, ref, tol)
