"""The conv backward (kernels/conv_bwd.py) at several tiles on one GPU: checked, then timed.

    PYTHONPATH=packages/runner/python:packages/kernels/python python3 scripts/gpu/conv_bench.py --out DIR

1. Each form's dx, dweight, dbias against torch autograd through the float64 reference conv (bf16,
   (2, 1000, 1000), width 4, bias, SiLU; tolerance 3e-2, as test_grad.py's cuda bf16) and, at every
   timed shape, its dx against the default form's (rel err printed); a form that fails is not timed.
2. do_bench medians (ms) at the blocks' conv shapes: (4, 4096, 5376) (d_model 2560) and (8, 2048, 3328)
   (d_model 1536), bf16, width 4, bias, SiLU; the bytes floor (x, dout read, dx written once) beside.
Prints a table and last `WINNER <form>`: the correct tiles with the least summed time. Writes
DIR/conv_bench.json. (call25 of 2026-12-02 also timed a one-launch form with an L2 scratch tile, since
removed: bench/results/2026-12-02-h200/call25.) Forms are BLOCK_L:WARPS of the two launches; "default"
is LAUNCH.conv.block_l (64) on LAUNCH.conv.num_warps (4); "bf16dpre" is the default with dpre in bf16
between the two launches (conv_bwd.py dpre_dtype).
"""
from __future__ import annotations

import argparse
import json
import os
import sys

_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path[:0] = [os.path.join(_ROOT, "packages", "kernels", "python"), os.path.join(_ROOT, "packages", "runner", "python")]

if "--smoke" in sys.argv:
    os.environ["TRITON_INTERPRET"] = "1"
import torch  # noqa: E402
import triton  # noqa: E402

from mamba2_kernels.kernels import conv_bwd  # noqa: E402
from mamba2_runner.checks import rel_err  # noqa: E402
from mamba2_runner.reference.ops import ref_causal_conv1d  # noqa: E402

FORMS = ["default", "bf16dpre", "32:4", "64:8", "128:8", "128:4"]


def run(f, dout, x, w, b):
    if f == "default":
        return conv_bwd.causal_conv1d_bwd(dout, x, w, b)
    if f == "bf16dpre":  # the default tiles, dpre in bf16 between the launches (half its HBM bytes)
        return conv_bwd.causal_conv1d_bwd(dout, x, w, b, dpre_dtype=torch.bfloat16)
    bl, nw = (int(v) for v in f.split(":"))
    return conv_bwd.causal_conv1d_bwd(dout, x, w, b, block_l=bl, num_warps=nw)
SHAPES = [(4, 4096, 5376), (8, 2048, 3328)]


def ref(x, w, b, dout):
    """dx, dw, db of the float64 reference conv (mamba2_runner.reference.ops) through autograd."""
    leaves = [t.detach().double().requires_grad_() for t in (x, w, b)]
    return torch.autograd.grad(ref_causal_conv1d(*leaves, activation="silu"), leaves, dout.double())


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--smoke", action="store_true", help="CPU interpreter, tiny shapes, wall clock (tests the script)")
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    dev = "cpu" if a.smoke else "cuda"
    global SHAPES
    if a.smoke:
        SHAPES = [(1, 40, 48)]
        import time

        def bench(fn):
            fn()
            t = time.perf_counter()
            fn()
            return (time.perf_counter() - t) * 1e3
    else:
        def bench(fn):
            return triton.testing.do_bench(fn, warmup=25, rep=100, return_mode="median")
    torch.manual_seed(0)
    res = {"gpu": torch.cuda.get_device_name() if dev == "cuda" else "cpu (smoke)", "checks": {}, "rows": []}
    n = 48 if a.smoke else 1000
    dtype = torch.float32 if a.smoke else torch.bfloat16
    x = torch.randn(2, n, n, device=dev).to(dtype)
    w = (torch.randn(n, 4, device=dev) / 2).to(dtype)
    b = torch.randn(n, device=dev).to(dtype)
    dout = torch.randn_like(x)
    r = ref(x, w, b, dout)
    ok = {}
    for f in FORMS:
        try:
            got = run(f, dout, x, w, b)
            errs = [rel_err(g.double(), rr) for g, rr in zip(got, r)]
            ok[f] = all(e <= 3e-2 for e in errs)
        except Exception as e:  # noqa: BLE001
            errs, ok[f] = [repr(e)[:200]], False
        res["checks"][f] = {"errs": errs, "ok": ok[f]}
        print(f"check {f}: ok={ok[f]} errs={errs}", flush=True)
    total = {f: 0.0 for f in FORMS if ok[f]}
    for shape in SHAPES:
        B, L, C = shape
        x = torch.randn(B, L, C, device=dev).to(dtype)
        w = (torch.randn(C, 4, device=dev) / 2).to(dtype)
        b = torch.randn(C, device=dev).to(dtype)
        dout = torch.randn_like(x)
        base = run("default", dout, x, w, b)[0].float()
        row = {"shape": list(shape), "ms": {}, "dx_vs_default": {},
               "floor_ms": 3 * x.numel() * 2 / 4.8e12 * 1e3}
        for f in list(total):
            row["dx_vs_default"][f] = rel_err(run(f, dout, x, w, b)[0].float(), base)
            row["ms"][f] = bench(lambda f=f: run(f, dout, x, w, b))
            total[f] += row["ms"][f]
        res["rows"].append(row)
        print(json.dumps(row), flush=True)
        with open(os.path.join(a.out, "conv_bench.json"), "w") as fh:
            json.dump(res, fh, indent=1)
    print(f"\n{'form':18} " + " ".join(f"{str(r['shape']):>18}" for r in res["rows"]))
    for f in total:
        print(f"{f:18} " + " ".join(f"{r['ms'][f]:18.3f}" for r in res["rows"]))
    print(f"{'floor':18} " + " ".join(f"{r['floor_ms']:18.3f}" for r in res["rows"]))
    win = min(total, key=total.get) if total else "default"
    res["winner"] = win
    with open(os.path.join(a.out, "conv_bench.json"), "w") as fh:
        json.dump(res, fh, indent=1)
    print(f"WINNER {win}")


if __name__ == "__main__":
    main()
