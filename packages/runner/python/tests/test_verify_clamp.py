"""verify's block gradient rows draw u away from the dt clamp's kink (verify_clamp.dt_kink_margin),
decided by the float64 reference: a token placed on a bound's pre-image is redrawn, the rest of u
is left as drawn, and a model whose dt cannot reach a bound draws exactly as before."""
from __future__ import annotations

import torch

from conftest import ROOT
from mamba2_runner.pkgload import load_generated, load_ir
from mamba2_runner.verify import Checker, Report
from mamba2_runner.verify_clamp import DT_KINK_ULPS, _ulp, dt_clamp_bounds, dt_kink_margin, dt_preactivation64


def _checker(name):
    d = ROOT / "kernels-out" / name
    pkg, ir = load_generated(d), load_ir(d)
    return Checker(pkg, ir, "cpu", Report(package=name, device="cpu", seed=0), lambda r: None), ir


def _on_bound(ir, m, u, token, head, pre):
    """Move u[0, token] along the direction that changes head's pre-activation v until v == pre."""
    sd = m.state_dict()
    u0 = u.clone()
    step = torch.randn(u.shape[-1], dtype=torch.float64)
    _, v0 = dt_preactivation64(ir, sd, u0)
    u1 = u0.clone()
    u1[0, token] = (u1[0, token].double() + step).to(u.dtype)
    _, v1 = dt_preactivation64(ir, sd, u1)
    dv = (v1 - v0)[0, token, head].item()  # v is affine in u (in_proj has no nonlinearity before dt)
    t = (pre - v0[0, token, head].item()) / dv
    u[0, token] = (u0[0, token].double() + t * step).to(u.dtype)


def test_a_token_on_the_clamp_bound_is_redrawn_and_the_rest_of_u_is_kept():
    chk, ir = _checker("mamba2_stateful")
    bounds = dt_clamp_bounds(ir)
    assert [b[0] for b in bounds] == ["lo", "hi"], bounds  # dt_limit (0.001, 0.2): both reachable
    torch.manual_seed(1)
    m = chk.make_module("float32")
    u = torch.randn(1, 6, ir["nodes"][0]["features"], dtype=torch.float32)
    _on_bound(ir, m, u, token=3, head=0, pre=bounds[1][2])
    raw, v = dt_preactivation64(ir, m.state_dict(), u)
    margin = DT_KINK_ULPS * (_ulp(raw, "bfloat16") + _ulp(raw.abs() + (v - raw).abs(), "float32"))
    assert ((v - bounds[1][2]).abs() <= margin)[0, 3].any()  # the setup put token 3 inside the margin
    before = u.clone()
    info = dt_kink_margin(ir, m.state_dict(), u, "bfloat16")
    assert info["tokens_redrawn"] >= 1 and info["rounds"] >= 1
    assert not torch.equal(u[0, 3], before[0, 3])
    raw, v = dt_preactivation64(ir, m.state_dict(), u)
    margin = DT_KINK_ULPS * (_ulp(raw, "bfloat16") + _ulp(raw.abs() + (v - raw).abs(), "float32"))
    for _, _, pre in bounds:
        assert not bool(((v - pre).abs() <= margin).any())
    # tokens that were not near a bound are left exactly as drawn (at least the ones never redrawn)
    kept = [t for t in range(u.shape[1]) if torch.equal(u[0, t], before[0, t])]
    assert len(kept) >= u.shape[1] - info["tokens_redrawn"]


def test_a_model_whose_dt_cannot_reach_a_bound_draws_u_unchanged():
    chk, ir = _checker("mamba2_grouped")
    assert dt_clamp_bounds(ir) == []
    torch.manual_seed(2)
    m = chk.make_module("float32")
    u = torch.randn(1, 5, ir["nodes"][0]["features"], dtype=torch.float32)
    before = u.clone()
    assert dt_kink_margin(ir, m.state_dict(), u, "bfloat16") == {}
    assert torch.equal(u, before)
