"""verify's block gradient rows away from the dt clamp's kink (dt_kink_margin).

dt = clamp(softplus(v), lo, hi), v = (in_proj's dt columns) + dt_bias. The
clamp's derivative jumps from sigmoid(v) to 0 at a bound, so an element whose
v lies within rounding of a bound's pre-image can sit on the other side of
the clamp in the kernel's run than in the float64 reference; its whole term
ddt * sigmoid(v) then enters or leaves the dt_bias (and A_log, in_proj's dt
rows, u) gradient sums: ~1/sqrt(terms per head) relative, 2.85e-1 on the
H200 (NOTES.md 2026-12-02c). That is the test's input, not a kernel error,
so the block gradient rows draw u away from the kink (dt_kink_margin):
  the only rounding between the float64 reference and the kernel's v is
  in_proj's output, rounded to the row's dtype: at most half an ulp of raw
  (bf16: ulp(x) = 2^(floor(log2|x|) - 7), 8 significand bits), plus fp32
  arithmetic in the kernel (the bias add and softplus: a few fp32 ulps of
  |raw| + |dt_bias|). Margin in v: DT_KINK_ULPS = 4 ulps of raw in the row's
  dtype (8x the worst in_proj rounding) + 4 fp32 ulps of |raw| + |dt_bias|.
  In dt that is sigmoid(v_bound) times it: at the 0.2 bound (sigmoid =
  0.18) and |raw| ~ 0.5-1, bf16: 4 * 2^-8 * 0.18 ~ 3e-3 of dt (1.4% of 0.2).
Decided by the float64 reference alone (the reference graph's values up to
the DtTransform node, from the same rounded u and weights), never by the
module under test. Tokens with an element inside the margin get their u row
redrawn (the dt of a token depends on that token's u only, through in_proj),
up to DT_KINK_TRIES rounds (a clear DtKinkError if that is not enough).
Elements clamped outside the margin stay: the row's note counts them per
bound, so the clamp's zero-gradient region is still exercised (B2-L37 bf16 on
CPU, seeds 0-59: the lower bound hit in 60, the upper in 56; at B2-L1, 16
elements, either may be missed). The row's dtype sets the ulp: fp32 rows
(in_proj in true fp32: torch's matmul TF32 is off by default) get a margin of
~5e-7 relative and are practically never redrawn. Only a bound dt can reach
counts: with softplus a lower bound <= 0 and an upper bound of inf never clamp,
so every package without a finite dt_limit draws exactly as before.
"""
from __future__ import annotations

import math
from typing import Any, Dict, List

DT_KINK_ULPS = 4
DT_KINK_TRIES = 32
_ULP_AT_ONE = {"float32": 2.0 ** -23, "bfloat16": 2.0 ** -7}


def _ulp(x, dtype: str):
    """The spacing of `dtype` at |x| (float64 tensor in, float64 tensor out)."""
    import torch

    a = x.abs().clamp_min(2.0 ** -126)
    return torch.exp2(torch.floor(torch.log2(a))) * _ULP_AT_ONE[dtype]


class DtKinkError(RuntimeError):
    """The block gradient rows cannot draw u away from the clamp's kink (see dt_kink_margin)."""


def dt_limit(node: dict) -> tuple:
    """A DtTransform node's (lo, hi) clamp, hi None -> inf (verify reads it from here too)."""
    lo, hi = node["limit"]
    return (float(lo), math.inf if hi is None else float(hi))


def dt_node(ir: dict):
    """The model's DtTransform node, or None."""
    return next((n for n in ir["nodes"] if n["kind"] == "DtTransform"), None)


def dt_clamp_bounds(ir: dict) -> List[tuple]:
    """[(name, bound in dt, its pre-image in v)] for each clamp bound dt can reach:
    with softplus (dt > 0) a lower bound <= 0 and an infinite upper one never clamp."""
    dtn = dt_node(ir)
    if dtn is None:
        return []
    lo, hi = dt_limit(dtn)
    out = []
    for name, b in (("lo", lo), ("hi", hi)):
        if not math.isfinite(b) or (dtn["softplus"] and b <= 0.0):
            continue
        pre = (b + math.log(-math.expm1(-b))) if dtn["softplus"] else b  # softplus^-1(b) = log(expm1(b))
        out.append((name, b, pre))
    return out


def dt_preactivation64(ir: dict, state_dict, u):
    """(raw, v): the DtTransform node's float64 input and raw + dt_bias, as ref_block
    computes them (its graph walked up to that node) from the same u and weights."""
    import torch

    from .reference import graph as G

    dtn = dt_node(ir)
    ctx = G._Ctx(state_dict, None)
    with torch.no_grad():
        for node in ir["nodes"]:
            if node is dtn:
                break
            out = G.NODE_EVAL[node["kind"]](node, ctx, u)
            if out is not None:
                ctx.values[node["id"]] = out
        raw = ctx.get(dtn["input"]).detach().to(torch.float64)
        v = raw + ctx.param("dt_bias").detach().to(torch.float64) if dtn["bias"] else raw
    return raw, v


def dt_kink_margin(ir: dict, state_dict, u, dtype: str) -> Dict[str, Any]:
    """Redraw the u rows (tokens) whose float64 v lies within the margin (see
    DT_KINK_ULPS) of a reachable clamp bound's pre-image, until none does. u
    [b, l, features] is changed in place. Returns the clamp's coverage: elements
    clamped at each bound (outside the margin), tokens redrawn, rounds; {} when
    the model's dt cannot reach a bound. DtKinkError after DT_KINK_TRIES rounds."""
    import torch

    bounds = dt_clamp_bounds(ir)
    if not bounds:
        return {}
    if u.dim() != 3:
        raise DtKinkError(f"dt_kink_margin takes u [batch, seqlen, features], got {tuple(u.shape)}")
    redrawn = 0
    for rnd in range(DT_KINK_TRIES + 1):
        raw, v = dt_preactivation64(ir, state_dict, u)
        bias = (v - raw).abs()
        margin = DT_KINK_ULPS * (_ulp(raw, dtype) + _ulp(raw.abs() + bias, "float32"))
        near = torch.zeros(v.shape, dtype=torch.bool, device=v.device)
        for _, _, pre in bounds:
            near |= (v - pre).abs() <= margin
        bad = near.reshape(u.shape[0], u.shape[1], -1).any(-1)  # [b, l]: a token with an element near a bound
        if not bool(bad.any()):
            info: Dict[str, Any] = {"margin_ulps": DT_KINK_ULPS, "rounds": rnd, "tokens_redrawn": redrawn}
            for name, _, pre in bounds:
                info[f"clamped_{name}"] = int(((v < pre) if name == "lo" else (v > pre)).sum())
            return info
        if rnd == DT_KINK_TRIES:
            break
        n = int(bad.sum())
        redrawn += n
        with torch.no_grad():
            u[bad] = torch.randn(n, u.shape[-1], device=u.device).to(u.dtype)
    raise DtKinkError(
        f"after {DT_KINK_TRIES} rounds of redrawing u, {int(bad.sum())} tokens still have a float64 dt within "
        f"{DT_KINK_ULPS} {dtype} ulps of a dt_limit bound ({[(n, b) for n, b, _ in bounds]}): the gradient rows "
        "cannot avoid the clamp's kink with these weights. Lower DT_KINK_ULPS or check make_module's dt_bias."
    )
