"""Why the compiled layer is still slower than eager (issue 10; call38: forward 1.29x, fwd+bwd 1.09x).

    PYTHONPATH=packages/runner/python:packages/kernels/python python3 scripts/gpu/compile_diag.py --out $OUT

kernels-out/mamba2_130m's Mamba2 (d_model 768, bf16) at (4, 1024). For eager and torch.compile (default), with
Inductor's shape_padding on (its default) and off: throughput time per call (100 back-to-back calls, then one
sync; median of 7 rounds: what a training loop sees, less host jitter than compile_check's single synced calls),
forward and forward+backward, and the GPU kernels of one compiled forward by name (the profiler), so an
Inductor copy kernel shows. Run it with TORCH_LOGS=output_code (stderr to a file) for Inductor's code of each variant.
Outputs compared to eager (bit-equal expected: the same kernels).
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
for p in ("packages/runner/python", "packages/kernels/python"):
    sys.path.insert(0, str(ROOT / p))

import torch  # noqa: E402
from torch.profiler import ProfilerActivity, profile  # noqa: E402

from mamba2_runner.pkgload import load_generated  # noqa: E402


def rounds(fn, n=100, k=7):
    for _ in range(10):
        fn()
    torch.cuda.synchronize()
    ts = []
    for _ in range(k):
        t = time.perf_counter()
        for _ in range(n):
            fn()
        torch.cuda.synchronize()
        ts.append((time.perf_counter() - t) / n * 1e3)
    return statistics.median(ts)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=os.environ.get("OUT", "."))
    a = ap.parse_args()
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    mod = load_generated(ROOT / "kernels-out" / "mamba2_130m")
    torch.manual_seed(0)
    layer = mod.Mamba2(768, layer_idx=0, device="cuda", dtype=torch.bfloat16)
    u = torch.randn(4, 1024, 768, device="cuda", dtype=torch.bfloat16)
    g = torch.randn_like(u)
    res = {}
    with torch.no_grad():
        ref = layer(u)
    import torch._inductor.config as ic

    variants = [("eager", None), ("compiled", True), ("compiled-nopad", False)]
    for label, pad in variants:
        torch._dynamo.reset()
        if pad is None:
            m = layer
        else:
            ic.shape_padding = pad
            m = torch.compile(layer)
            from torch._inductor import codecache  # noqa: F401
        with torch.no_grad():
            y = m(u)
            same = bool(torch.equal(y, ref))
            fwd = rounds(lambda: m(u))

        def fb():
            uu = u.detach().requires_grad_()
            m(uu).backward(g)

        fb()
        fwdbwd = rounds(fb, n=30)
        kernels = {}
        with torch.no_grad():
            with profile(activities=[ProfilerActivity.CUDA]) as prof:
                for _ in range(10):
                    m(u)
                torch.cuda.synchronize()
        for e in prof.key_averages():
            if e.self_device_time_total > 0:
                kernels[e.key[:90]] = round(e.self_device_time_total / 10, 2)
        res[label] = dict(equal_eager=same, fwd_ms=round(fwd, 4), fwdbwd_ms=round(fwdbwd, 4), kernels_us=kernels)
        print(json.dumps({label: res[label]}), flush=True)
    ic.shape_padding = True
    (out / "compile_diag.json").write_text(json.dumps(res, indent=1))
    print("\nvariant          fwd ms  fwd+bwd ms  /eager fwd  /eager fwd+bwd  equal  GPU us (sum)")
    e = res["eager"]
    for k, r in res.items():
        print(f"{k:16s} {r['fwd_ms']:.4f}  {r['fwdbwd_ms']:.4f}  {r['fwd_ms'] / e['fwd_ms']:.3f}  "
              f"{r['fwdbwd_ms'] / e['fwdbwd_ms']:.3f}  {r['equal_eager']}  {sum(r['kernels_us'].values()):.1f}")


if __name__ == "__main__":
    main()
