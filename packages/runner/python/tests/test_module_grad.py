"""Gradients of the whole generated block (module.py of the package under
test, conftest.pkg_dir: on CPU the seed's structure at toy sizes,
test/fixtures/pkgs/e2e_tiny, on a GPU kernels-out/mamba2_simple) against torch
autograd through the float64 reference (mamba2_runner.reference.ref_block on
the package's ir.json, differentiable as it is), from the same weights.

The kernels' own gradients are tested in the library
(packages/kernels/python/tests/test_grad.py); this test checks that the
generated module wires every parameter through them.
Error measure per named gradient: mamba2_runner.checks.rel_err
(||tri - ref|| / ||ref||; NaN/inf never pass); tolerances in MODULE_TOL.
"""
from __future__ import annotations

import importlib
import json
from pathlib import Path

import torch

from mamba2_runner.checks import passes, rel_err
from mamba2_runner.reference import ref_block


def assert_grads_close(tri: dict, ref: dict, tol: float) -> None:
    errs = {}
    for name, r in ref.items():
        t = tri[name]
        assert t is not None, f"d{name}: the generated backward returned no gradient"
        assert t.shape == r.shape, f"d{name}: shape {tuple(t.shape)} != reference {tuple(r.shape)}"
        errs[name] = rel_err(t, r)
    bad = {k: f"{v:.2e}" for k, v in errs.items() if not passes(v, tol)}
    assert not bad, f"relative errors above {tol:.0e}: {bad} (all: { {k: f'{v:.1e}' for k, v in errs.items()} })"


# The block chains in_proj, conv, scan, norm and out_proj; on CUDA its forward
# kernels use tf32 dots, which the fp32 gradients inherit.
MODULE_TOL = {("cpu", torch.float32): 1e-4, ("cuda", torch.float32): 5e-3}


def test_block_parameter_gradients_match_autograd_through_a_float64_reference_block(gen_pkg, device):
    """u and every parameter of the generated block get the gradient that
    torch autograd gives through ref_block in float64, from the same weights."""
    cfg = importlib.import_module(f"{gen_pkg.__name__}._config")
    cls = getattr(gen_pkg, [n for n in gen_pkg.__all__ if n[:1].isupper() and not n.startswith("IR")][0])
    ir = json.loads((Path(gen_pkg.__file__).parent / "ir.json").read_text())
    block = cls(cfg.D_MODEL, chunk_size=32).to(device)
    with torch.no_grad():  # move every parameter off its special init (D = 1, norm weight = 1, ...)
        for prm in block.parameters():
            prm.add_(0.1 * torch.randn_like(prm))
    # two chunks of 32 on CPU, the second partial: the state crosses a chunk
    # boundary in the forward and the backward (the kernels' multi-chunk
    # gradients at more chunks: the library's test_grad.py)
    L = 40 if device == "cpu" else 600
    u = torch.randn(2, L, cfg.D_MODEL, device=device, requires_grad=True)
    params = dict(block.named_parameters())
    out = block(u)
    ref = ref_block(ir, params, u)
    cot = torch.randn_like(ref)
    tri = torch.autograd.grad(out, [u, *params.values()], cot.to(out.dtype), allow_unused=True)
    refg = torch.autograd.grad(ref, [u, *params.values()], cot)
    unwired = [n for n, g in zip(params, tri[1:]) if g is None]
    assert not unwired, (
        f"no gradient reached {unwired}: module.py calls forward-only ops. Route it through "
        "autograd.py (causal_conv1d_autograd, rmsnorm_gated_autograd; functional.py -> ssd_scan_autograd)."
    )
    names = ["u", *params]
    assert_grads_close(dict(zip(names, tri)), dict(zip(names, refg)), MODULE_TOL[(device, torch.float32)])
