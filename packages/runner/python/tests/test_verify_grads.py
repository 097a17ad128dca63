"""verify's gradient rows on every generated example (kernels-out/<name>):
the package's autograd (the generated backward kernels) against torch autograd
through the float64 reference, for the scan (mamba_chunk_scan_combined) and the
whole block (u and every parameter). On CPU the kernels run in Triton's
interpreter (conftest sets TRITON_INTERPRET=1); on a GPU host the same tests
run compiled with the CUDA tolerances."""
from __future__ import annotations

import importlib

import pytest

from conftest import ROOT, SEED
from mamba2_runner.pkgload import load_generated, load_ir, read_manifest
from mamba2_runner.verify import Checker, Report, grad_shapes, pkg_chunk, resolve_device

# mamba2_simple is not in the list: its block gradients (u and every
# parameter, batch 2, a sequence crossing a chunk in the forward and the
# backward) are test_module_grad.py's, on the same package; its scan options
# (D per head, dt bias + softplus, the norm's gate) are the other examples'
# and the library's test_grad.py's.
EXAMPLES = ["mamba2_grouped", "mamba2_stateful", "mamba2_conv6_nogate", "mamba2_builder_gate"]


def _pkg(name):
    d = ROOT / "kernels-out" / name
    if not (d / "manifest.json").is_file():
        pytest.fail(f"{d} has not been generated (run `pnpm gen`)")
    return d


def _fmt(rows):
    return "\n".join(f"{r.op} {r.shape} {r.dtype}: {r.rel_err} > {r.tol} {r.note}" for r in rows)


# Each example at grad_shapes' longer shape (one not a multiple of the chunk,
# crossing it where the chunk is small), batch 1; the batch stride on one
# example (BATCHED), batch 2. What differs per example is its fragments and
# flags, which one sequence runs. Elsewhere: seqlen 1 and batch 2 with every
# scan option, the library's test_grad.py (SCAN_CASES); verify's own loop over
# grad shapes (`run_verify(ops=["grads"])`), the stand-in tests of
# test_verify.py and its --ops grads command test.
BATCHED = "mamba2_stateful"


@pytest.mark.parametrize("name", EXAMPLES)
def test_every_gradient_of_the_example_matches_the_reference(name):
    pkg, ir = load_generated(_pkg(name)), load_ir(_pkg(name))
    report = Report(package=name, device=resolve_device("auto"), seed=SEED)  # conftest seeds torch with it
    chk = Checker(pkg, ir, report.device, report, lambda r: None)
    _, l = max(grad_shapes(ir, pkg_chunk(pkg, ir)), key=lambda s: s[1])
    b = 2 if name == BATCHED else 1
    chk.grad_scan("float32", b, l)
    chk.grad_block("float32", b, l)
    ops = {r.op for r in report.rows}
    assert report.rows and all(op.startswith("grad ") for op in ops)
    # the input, the scan's own inputs and every parameter of the module have a row
    assert {"grad block u", "grad scan x", "grad scan dt", "grad scan A", "grad scan B", "grad scan C"} <= ops
    pkg = load_generated(_pkg(name))
    m = Checker(pkg, load_ir(_pkg(name)), report.device, report, lambda r: None).make_module("float32")
    params = {f"grad block {k}" for k, _ in m.named_parameters()}
    assert params and params <= ops, params - ops
    assert not report.failed, _fmt(report.failed)


def test_a_wrong_backward_is_caught_and_named(monkeypatch):
    """Scale dB from the generated SSD backward by 10: the scan's B row and
    the block rows that depend on B through in_proj must fail; x's must not.
    verify's rows at one gradient shape, grad_shapes' shortest (seqlen 1: a
    scaled dB shows at any length), catch and name it; the whole `--ops grads`
    run of this package, every shape, is the test above. (At seqlen 1 the B
    path carries ~2e-4 of du and of in_proj's gradient, so 1.5x put the block
    rows at the 1e-4 tolerance: seed 523249167 left du at 9.8e-5 and failed
    the test. 10x gives them 9x that share, the tolerance unchanged; the rows
    that must pass do not depend on dB at any scale.)"""
    d = _pkg("mamba2_stateful")
    name = read_manifest(d)["name"]
    pkg = load_generated(d)
    autograd = importlib.import_module(f"{name}.autograd")
    real = autograd.ssd_bwd

    def wrong(*a, **k):
        g = dict(real(*a, **k))
        g["dB"] = g["dB"] * 10.0
        return g

    monkeypatch.setattr(autograd, "ssd_bwd", wrong)  # the scan rows (mamba_chunk_scan_combined's backward)
    monkeypatch.setattr(importlib.import_module(f"{name}.block"), "ssd_bwd", wrong)  # the block's (block.py)
    ir = load_ir(d)
    report = Report(package=name, device=resolve_device("auto"), seed=SEED)  # conftest seeds torch with it
    chk = Checker(pkg, ir, report.device, report, lambda r: None)
    _, l = grad_shapes(ir, pkg_chunk(pkg, ir))[0]
    chk.grad_scan("float32", 1, l)  # batch 1: a scaled dB shows in one sequence as in two
    chk.grad_block("float32", 1, l)
    failed = {r.op for r in report.failed}
    assert "grad scan B" in failed, _fmt(report.rows)
    assert "grad block in_proj.weight" in failed and "grad block u" in failed, _fmt(report.rows)
    passed = {r.op for r in report.rows if r.passed}
    assert {"grad scan x", "grad scan C", "grad block out_proj.weight", "grad block norm.weight"} <= passed
