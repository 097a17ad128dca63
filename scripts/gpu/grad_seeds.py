"""Is verify's bf16 'grad block dt_bias' failure of mamba2_stateful (call32: 2.85e-1 at B2-L37, tol 5e-2)
a bug or the dt clamp's kink? For N seeds, the bf16 grad_block row at (2, 37) of a package, computed twice on
the same module and inputs: through block.py's Function (the default) and through the per-op composition
(block.FUSED = False), each against the float64 reference; plus the count of (b, l, h) elements whose clamp
side (dt_limit) differs between the bf16 in_proj output and the float64 one (a flip moves that element's whole
ddt in or out of the dt_bias sum). A bug shows as Function != composition, or errors without flips.

    python scripts/gpu/grad_seeds.py kernels-out/mamba2_stateful 40 [--device cuda]
"""
import argparse
import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
for p in ("packages/runner/python", "packages/kernels/python"):
    sys.path.insert(0, str(ROOT / p))

ap = argparse.ArgumentParser()
ap.add_argument("pkg")
ap.add_argument("n", type=int)
ap.add_argument("--device", default="cuda")
ap.add_argument("--out", default=None)
a = ap.parse_args()
if a.device == "cpu":
    os.environ["TRITON_INTERPRET"] = "1"
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from mamba2_runner import verify as V  # noqa: E402

pkg = V.load_generated(a.pkg)
ir = V.load_ir(a.pkg)
blockmod = sys.modules[pkg.__name__ + ".block"]
dt_cols = sys.modules[pkg.__name__ + ".module"]._DECODE_LAYOUT.dt  # where dt sits in in_proj's output
tol = V.GRAD_TOLERANCES[(a.device, "bfloat16")]  # verify's bf16 gradient tolerance
cfg = ir.get("config") or {}
lim = cfg.get("dtLimit") or [0.0, None]
lo, hi = float(lim[0] or 0.0), float("inf") if lim[1] is None else float(lim[1])
b, l = 2, 37
rows = []
for s in range(a.n):
    res = {}
    for form, fused in (("function", True), ("composition", False)):
        blockmod.FUSED = fused
        torch.manual_seed(s)
        rep = V.Report(package="x", device=a.device, seed=s)
        chk = V.Checker(pkg, ir, a.device, rep, lambda r: None)
        chk.grad_block("bfloat16", b, l)
        res[form] = {r.op.split()[-1]: r.rel_err for r in rep.rows}
    blockmod.FUSED = True
    # the same module and u as grad_block's (same seed, same draws), for the clamp flips
    torch.manual_seed(s)
    chk = V.Checker(pkg, ir, a.device, V.Report(package="x", device=a.device, seed=s), lambda r: None)
    m = chk.make_module("bfloat16")
    u = torch.randn(b, l, V._one(ir, "Input")["features"], device=a.device, dtype=torch.bfloat16)
    with torch.no_grad():
        raw16 = m.in_proj(u)[..., dt_cols[0]:dt_cols[1]].float()
        w64 = m.in_proj.weight.detach().double()
        raw64 = u.double() @ w64.T
        if m.in_proj.bias is not None:
            raw64 = raw64 + m.in_proj.bias.double()
        raw64 = raw64[..., dt_cols[0]:dt_cols[1]]
        db = m.dt_bias.detach()
        d16 = F.softplus(raw16 + db.float())
        d64 = F.softplus(raw64 + db.double())
        side = lambda d: (d < lo).int() - (d > hi).int()  # noqa: E731
        flips = int((side(d16) != side(d64)).sum())
        clamped = float(((d64 < lo) | (d64 > hi)).double().mean())
    row = dict(seed=s, flips=flips, clamped_frac=clamped, function=res["function"], composition=res["composition"])
    rows.append(row)
    f, c = res["function"], res["composition"]
    print(f"seed {s:3d}  flips {flips:2d}  clamped {clamped:.2f}  dt_bias fn {f['dt_bias']:.2e} comp {c['dt_bias']:.2e}"
          f"  u fn {f['u']:.2e} comp {c['u']:.2e}  A_log {f['A_log']:.2e}", flush=True)
bad = [r for r in rows if r["function"]["dt_bias"] > tol or r["composition"]["dt_bias"] > tol]
print(f"{len(rows)} seeds; dt_bias > {tol:g} in {len(bad)}: "
      + ", ".join(f"seed {r['seed']} (flips {r['flips']})" for r in bad))
print(f"seeds with flips: {sum(r['flips'] > 0 for r in rows)}; with flips and dt_bias <= {tol:g}: "
      f"{sum(r['flips'] > 0 and r['function']['dt_bias'] <= tol for r in rows)}")
out = a.out or os.path.join(os.environ.get("OUT", "."), "grad_seeds.json")
Path(out).write_text(json.dumps(rows, indent=1))
