"""Gradients of the whole generated block (module.py of the package under
test, env MAMBA2_PKG, default kernels-out/mamba2_simple) against torch
autograd through a float64 reference block (train.reference_block: F.conv1d,
ref_scan, a hand-written norm), from the same weights.

The kernels' own gradients are tested in the library
(packages/kernels/python/tests/test_grad.py); this test checks that the
generated module wires every parameter through them.
Error measure per named gradient: ||tri - ref|| / ||ref|| (NaN/inf never
pass); tolerances in MODULE_TOL.
"""
from __future__ import annotations

import importlib
import math

import torch

from mamba2_runner.reference.scan import ref_scan
from mamba2_runner.verify import rel_err

F64 = torch.float64


def assert_grads_close(tri: dict, ref: dict, tol: float) -> None:
    errs = {}
    for name, r in ref.items():
        t = tri[name]
        assert t is not None, f"d{name}: the generated backward returned no gradient"
        assert t.shape == r.shape, f"d{name}: shape {tuple(t.shape)} != reference {tuple(r.shape)}"
        errs[name] = rel_err(t.detach().cpu(), r.detach().cpu())
    bad = {k: f"{v:.2e}" for k, v in errs.items() if not v <= tol}
    assert not bad, f"relative errors above {tol:.0e}: {bad} (all: { {k: f'{v:.1e}' for k, v in errs.items()} })"


# ------------------------------------------------------------------ the whole block

# The block chains in_proj, conv, scan, norm and out_proj; on CUDA its forward
# kernels use tf32 dots, which the fp32 gradients inherit.
MODULE_TOL = {("cpu", torch.float32): 1e-4, ("cuda", torch.float32): 5e-3}


def test_block_parameter_gradients_match_autograd_through_a_float64_reference_block(gen_pkg, device):
    """Every parameter of the generated block gets the gradient that torch
    autograd gives through train.reference_block (F.conv1d, ref_scan, a
    hand-written norm) in float64, from the same weights."""
    import copy

    from mamba2_runner.train import reference_block

    cfg = importlib.import_module(f"{gen_pkg.__name__}._config")
    cls = getattr(gen_pkg, [n for n in gen_pkg.__all__ if n[:1].isupper() and not n.startswith("IR")][0])
    block = cls(cfg.D_MODEL, chunk_size=32).to(device)
    with torch.no_grad():  # move every parameter off its special init (D = 1, norm weight = 1, ...)
        for prm in block.parameters():
            prm.add_(0.1 * torch.randn_like(prm))
    block64 = copy.deepcopy(block).double()
    L = 70 if device == "cpu" else 600
    u = torch.randn(2, L, cfg.D_MODEL, device=device)
    u64 = u.double().requires_grad_()
    u.requires_grad_()

    def scan64(x, dt, A, B, C, initial_states=None):
        return ref_scan(x, dt, A, B, C, initial_states=initial_states, dt_limit=(-math.inf, math.inf))

    out = block(u)
    ref = reference_block(block64, cfg, u64, scan=scan64)
    cot = torch.randn_like(ref)
    (out.double() * cot).sum().backward()
    (ref * cot).sum().backward()
    unwired = [n for n, p in block.named_parameters() if p.grad is None]
    assert not unwired, (
        f"no gradient reached {unwired}: module.py calls forward-only ops. Route it through "
        "autograd.py (causal_conv1d_autograd, rmsnorm_gated_autograd; functional.py -> ssd_scan_autograd)."
    )
    tri = {"u": u.grad, **{n: p.grad for n, p in block.named_parameters()}}
    refg = {"u": u64.grad, **{n: p.grad for n, p in block64.named_parameters()}}
    assert_grads_close(tri, refg, MODULE_TOL[(device, torch.float32)])
