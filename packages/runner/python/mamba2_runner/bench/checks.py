"""The bench's correctness gate: fresh random inputs, the float64 reference
(mamba2_runner.reference), the one rel_err and pass rule (mamba2_runner.checks).
A provider that fails here is recorded as wrong and never timed.

Forward rows compare the output on a slice for big shapes (check_slices).
Forward+backward rows compare every gradient at check_shape (batch 1, seqlen
min(L, GRAD_CHECK_MAX_L)) against torch autograd through ref_scan / ref_block.
"""
from __future__ import annotations

import dataclasses
import math
from typing import Callable, Dict

from ..checks import passes, rel_errs, worst
from ..reference import ref_block, ref_scan
from .configs import Config, SsdConfig

# relative-error tolerances on a bf16 output (see .library METHOD: bf16 operands 1e-3..1e-2)
TOL_SSD = 1e-2
TOL_BLOCK = 2e-2
# above this many (batch * seqlen * heads) elements the reference runs on a slice
FULL_CHECK_MAX = 2**16
# fwdbwd: relative error per gradient vs torch autograd through the float64
# reference. SSD 3e-2: the bf16 tolerance of the generated backward's own
# tests (test_grad.py, cuda bf16): bf16 x/B/C/z and bf16 dx/dB/dC/dz
# outputs (2^-9 rounding each), tf32/bf16 dots, and per-head sums (dA, dD,
# ddt_bias) over b*l*p terms. Block 5e-2: the block's forward check is already
# 2x the SSD's (bf16 activations rounded between ops); the backward carries
# those roundings plus bf16 rounding of the gradients between ops.
TOL_GRAD_SSD = 3e-2
TOL_GRAD_BLOCK = 5e-2
# fwdbwd check shape: batch 1, seqlen at most this (the float64 reference
# steps one position at a time and autograd keeps every state)
GRAD_CHECK_MAX_L = 512
SSD_GRAD_NAMES = ("x", "dt", "A", "B", "C", "D", "dt_bias")


def sync(device: str) -> None:
    import torch

    if device == "cuda":
        torch.cuda.synchronize()


# ---------------------------------------------------------------- inputs

def make_ssd_inputs(cfg: SsdConfig, device: str) -> dict:
    """Fresh random inputs (never zeros): dt_bias is the inverse softplus of a
    log-uniform dt in [1e-3, 0.1] as Mamba2 initialises it; A in [-16, -1]."""
    import torch

    b, l, h, p, n, g = cfg.batch, cfg.seqlen, cfg.nheads, cfg.headdim, cfg.dstate, cfg.ngroups
    bf16, f32 = torch.bfloat16, torch.float32
    dt0 = torch.exp(torch.rand(h, device=device) * (math.log(0.1) - math.log(1e-3)) + math.log(1e-3))
    return {
        "x": torch.randn(b, l, h, p, device=device, dtype=bf16),
        "dt": torch.randn(b, l, h, device=device, dtype=f32) * 0.5,
        "A": -torch.empty(h, device=device, dtype=f32).uniform_(1.0, 16.0),
        "B": torch.randn(b, l, g, n, device=device, dtype=bf16),
        "C": torch.randn(b, l, g, n, device=device, dtype=bf16),
        "D": torch.randn(h, device=device, dtype=f32),
        "z": torch.randn(b, l, h, p, device=device, dtype=bf16) if cfg.has_z else None,
        "dt_bias": dt0 + torch.log(-torch.expm1(-dt0)),
    }


def ssd_input_bytes(inp: dict) -> int:
    return sum(t.numel() * t.element_size() for t in inp.values() if t is not None)


def ssd_grad_names(cfg: SsdConfig) -> tuple:
    return SSD_GRAD_NAMES + (("z",) if cfg.has_z else ())


def make_ssd_fb_inputs(cfg: SsdConfig, device: str) -> dict:
    """make_ssd_inputs with the differentiable ones requiring grad, plus a
    random bf16 grad_out (drawn once; the timed call reuses it)."""
    import torch

    inp = make_ssd_inputs(cfg, device)
    for k in ssd_grad_names(cfg):
        inp[k].requires_grad_()
    inp["grad_out"] = torch.randn_like(inp["x"], requires_grad=False)
    return inp


def check_config(cfg: Config) -> Config:
    """The fwdbwd check shape: the config at batch 1 and seqlen min(L, GRAD_CHECK_MAX_L)."""
    return dataclasses.replace(cfg, batch=1, seqlen=min(cfg.seqlen, GRAD_CHECK_MAX_L))


def check_shape(cfg: Config) -> dict:
    c = check_config(cfg)
    if isinstance(c, SsdConfig):
        return {"batch": c.batch, "seqlen": c.seqlen, "nheads": c.nheads, "headdim": c.headdim,
                "dstate": c.dstate, "ngroups": c.ngroups, "has_z": c.has_z}
    return {"batch": c.batch, "seqlen": c.seqlen}


# ---------------------------------------------------------------- forward references

def check_slices(cfg: SsdConfig):
    """(batch rows, heads, groups) to compare. Small shapes: everything. Big: first
    and last batch row, first and last group, first and last head of each of those
    groups (the sliced problem keeps the head -> group mapping)."""
    b, h, g = cfg.batch, cfg.nheads, cfg.ngroups
    if b * cfg.seqlen * h <= FULL_CHECK_MAX:
        return list(range(b)), list(range(h)), list(range(g))
    hpg = h // g
    groups = sorted({0, g - 1})
    within = sorted({0, hpg - 1})
    heads = [gi * hpg + j for gi in groups for j in within]
    return sorted({0, b - 1}), heads, groups


def ssd_reference(cfg: SsdConfig, inp: dict):
    """float64 ref_scan on the check slice (on the inputs' device)."""
    import torch

    rows, heads, groups = check_slices(cfg)
    dev = inp["x"].device
    ri, hi, gi = (torch.tensor(v, device=dev) for v in (rows, heads, groups))
    sl = lambda t, dim, idx: t.index_select(dim, idx)  # noqa: E731
    x = sl(sl(inp["x"], 0, ri), 2, hi)
    z = sl(sl(inp["z"], 0, ri), 2, hi) if inp["z"] is not None else None
    ref = ref_scan(
        x, sl(sl(inp["dt"], 0, ri), 2, hi), sl(inp["A"], 0, hi),
        sl(sl(inp["B"], 0, ri), 2, gi), sl(sl(inp["C"], 0, ri), 2, gi),
        D=sl(inp["D"], 0, hi), z=z, dt_bias=sl(inp["dt_bias"], 0, hi), dt_softplus=True,
    )
    return ref, (ri, hi)


# ---------------------------------------------------------------- gradient references

def fwdbwd_fn(fwd: Callable[[dict], object], names) -> Callable[[dict], dict]:
    """fn(i) = forward, then d(out . grad_out)/d(i[name]) for each name via
    torch.autograd.grad (nothing accumulates into .grad)."""
    import torch

    names = tuple(names)

    def fn(i, _fwd=fwd, _names=names):
        out = _fwd(i)
        grads = torch.autograd.grad(out, [i[k] for k in _names], i["grad_out"], allow_unused=True)
        return dict(zip(_names, grads))
    return fn


def ssd_reference_grads(inp: dict, names) -> dict:
    """torch autograd through the float64 ref_scan, the same cotangent grad_out."""
    import torch

    f64 = torch.float64
    leaf = {k: (None if v is None else v.detach().to(f64).requires_grad_(k in names))
            for k, v in inp.items() if k != "grad_out"}
    ref = ref_scan(leaf["x"], leaf["dt"], leaf["A"], leaf["B"], leaf["C"], D=leaf["D"], z=leaf["z"],
                   dt_bias=leaf["dt_bias"], dt_softplus=True)
    grads = torch.autograd.grad(ref, [leaf[k] for k in names], inp["grad_out"].to(f64))
    return dict(zip(names, grads))


def block_reference_grads(ir: dict, sd: dict, param_names, u, grad_out) -> dict:
    """torch autograd through ref_block in float64: {'u': du, name: dparam}."""
    import torch

    f64 = torch.float64
    sd64 = {k: v.detach().to(f64).requires_grad_(k in param_names) for k, v in sd.items()}
    u64 = u.detach().to(f64).requires_grad_()
    ref = ref_block(ir, sd64, u64)
    names = list(param_names)
    grads = torch.autograd.grad(ref, [u64] + [sd64[n] for n in names], grad_out.to(f64), allow_unused=True)
    out = {"u": grads[0]}
    for n, g in zip(names, grads[1:]):
        out[n] = g if g is not None else torch.zeros_like(sd64[n])
    return out


def all_finite(grads: Dict[str, object]) -> bool:
    import torch

    return all(g is not None and bool(torch.isfinite(g).all()) for g in grads.values())


def judge_grads(r: dict, errs: Dict[str, float], tol: float) -> bool:
    """Record errs on provider row r (grad_errs, err = the worst, wrong_grads)
    and return whether every gradient is within tol (NaN never is)."""
    r["grad_errs"] = errs
    bad = [k for k, e in errs.items() if not passes(e, tol)]
    r["err"] = worst(errs)
    r["tol"] = tol
    if bad:
        r["wrong_grads"] = bad
    return not bad


def grads_right(r: dict, fn, inputs: dict, ref: dict, tol: float, device: str) -> bool:
    """forward+backward rows: every gradient of `fn` at the check inputs
    against the float64 reference gradients; sets the row's status ("ok" or
    "wrong", never timed) and returns whether it may be timed."""
    got = fn(inputs)
    sync(device)
    r["all_finite"] = all_finite(got)
    ok = judge_grads(r, rel_errs(got, ref), tol)
    del got
    r["status"] = "ok" if ok and r["all_finite"] else "wrong"
    return r["status"] == "ok"
