"""The one relative-error measure and the one pass/fail judgement.

Every comparison against the float64 reference (verify, bench, train, the
tests of the runner and of the kernel library) goes through here:

    rel_err(got, ref) = ||got - ref||_2 / ||ref||_2, computed in float64
                        (||got - ref||_2 when ref is all zeros);
    NaN when got holds any NaN or inf, and passes(NaN, tol) is False for
    every tol: a NaN never passes.

A shape mismatch raises (a broadcast would hide a wrong output); rel_errs
maps it, and a missing tensor, to NaN for the per-gradient dicts.
"""
from __future__ import annotations

import math
from typing import Dict, Mapping, Optional


def rel_err(got, ref) -> float:
    """||got - ref|| / ||ref|| in float64 on got's device; NaN if got has a NaN or inf."""
    import torch

    g = got.detach().to(torch.float64)
    r = ref.detach().to(device=g.device, dtype=torch.float64)
    if g.shape != r.shape:
        raise ValueError(f"output shape {tuple(g.shape)} != reference shape {tuple(r.shape)}: "
                         "compare tensors of the same shape (no broadcasting)")
    if not bool(torch.isfinite(g).all()):
        return math.nan
    den = torch.linalg.vector_norm(r).item()
    num = torch.linalg.vector_norm(g - r).item()
    return num / den if den > 0 else num


def passes(err: Optional[float], tol: float) -> bool:
    """err within tol; None (the check crashed), NaN and inf never pass."""
    return err is not None and math.isfinite(err) and err <= tol


def rel_errs(got: Mapping[str, object], ref: Mapping[str, object]) -> Dict[str, float]:
    """rel_err per name in ref; NaN for a name missing from got (or None) or
    of another shape, so it fails any tolerance."""
    out: Dict[str, float] = {}
    for name, r in ref.items():
        g = got.get(name)
        if g is None or tuple(g.shape) != tuple(r.shape):
            out[name] = math.nan
        else:
            out[name] = rel_err(g, r)
    return out


def worst(errs: Mapping[str, float]) -> float:
    """The largest error, NaN if any is NaN (0.0 for none)."""
    vals = list(errs.values())
    if any(v is None or math.isnan(v) for v in vals):
        return math.nan
    return max(vals, default=0.0)
