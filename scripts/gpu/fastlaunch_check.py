"""Prepared launches (kernels/fastlaunch.py) on the GPU: bit-identical results, host and wall time per call.

    PYTHONPATH=packages/runner/python:packages/kernels/python python3 scripts/gpu/fastlaunch_check.py [--out $OUT]

Two workloads, each with prepared launches on and off (fastlaunch.set_enabled, in every copy of the
module: the generated package's and the library's; off = Triton's own JITFunction.run on every call):
  block  the generated seed block (kernels-out/mamba2_simple: d_model 256, batch 2, seqlen 128, bf16),
         out = mod(u), grads of u and every parameter (scripts/host_profile.py build: the bench's form);
  ssd    the SSD scan at the seed shape (2, 128, 8 heads, headdim 64, d_state 128, chunk 256, bf16,
         D, dt_bias, softplus) through mamba2_kernels.autograd, grads of x, dt, A, B, C, D, dt_bias.
Checks: with fixed inputs, the outputs and every gradient with the switch on equal those with it off
bit for bit (torch.equal; and off twice, to show the workload is deterministic); every kernel the
workloads launch got prepared entries. Times: per call, median over --repeats rounds of --calls
calls, on and off interleaved: host = the loop without a sync (enqueue time; at this size the GPU
keeps up, so it is the host's cost), wall = the loop up to torch.cuda.synchronize(). Exit 1 if any
check fails. Prints a table; --out writes fastlaunch_check.json. About 30-50 s on a fresh machine
(compiles first). --smoke: on CPU under Triton's interpreter, the SSD alone, 1 x 1 calls, no prepared-entries check
(the interpreter has no prepared launches): shows the script runs, nothing else.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
for p in (ROOT / "scripts", ROOT / "packages" / "runner" / "python", ROOT / "packages" / "kernels" / "python"):
    sys.path.insert(0, str(p))
SMOKE = "--smoke" in sys.argv  # CPU, Triton's interpreter: the script's logic only (nothing is prepared there)
if SMOKE:
    os.environ["TRITON_INTERPRET"] = "1"
else:
    os.environ.pop("TRITON_INTERPRET", None)
DEV = "cpu" if SMOKE else "cuda"

import torch  # noqa: E402

import host_profile as hp  # noqa: E402  (it unsets TRITON_INTERPRET: set again for --smoke)

if SMOKE:
    os.environ["TRITON_INTERPRET"] = "1"


def fastlaunch_modules():
    return [m for n, m in list(sys.modules.items()) if n.endswith("kernels.fastlaunch") and m is not None]


def set_fast(on):
    for m in fastlaunch_modules():
        m.set_enabled(on)


def prepared_kernels():
    """{kernel name: prepared entries} over every loaded module's PreparedJITFunction objects."""
    out = {}
    for m in list(sys.modules.values()):
        for v in list(getattr(m, "__dict__", {}).values()):
            if type(v).__name__ == "PreparedJITFunction":
                out[v.fn.__name__] = out.get(v.fn.__name__, 0) + sum(len(d.entries) for d in v._m2_dev.values())
    return out


def block_workload(seed):
    _, fn, inp = hp.build(ROOT / "kernels-out" / "mamba2_simple", DEV, seed)

    def run():
        out, grads = fn(inp)
        return [out] + [g for g in grads.values() if g is not None]
    return run


def ssd_workload(seed):
    from mamba2_kernels.autograd import ssd_scan_autograd

    g = torch.Generator(device=DEV).manual_seed(seed)
    b, l, h, p, n = 2, 128, 8, 64, 128
    bf, f32 = torch.bfloat16, torch.float32
    dt0 = torch.exp(torch.rand(h, device=DEV, generator=g) * (math.log(0.1) - math.log(1e-3)) + math.log(1e-3))
    leaves = {
        "x": torch.randn(b, l, h, p, device=DEV, generator=g).to(bf),
        "dt": torch.randn(b, l, h, device=DEV, generator=g) * 0.5,
        "A": -torch.empty(h, device=DEV, dtype=f32).uniform_(1.0, 16.0, generator=g),
        "B": torch.randn(b, l, 1, n, device=DEV, generator=g).to(bf),
        "C": torch.randn(b, l, 1, n, device=DEV, generator=g).to(bf),
        "D": torch.randn(h, device=DEV, generator=g),
        "dt_bias": dt0 + torch.log(-torch.expm1(-dt0)),
    }
    leaves = {k: t.requires_grad_() for k, t in leaves.items()}
    gout = torch.randn(b, l, h, p, device=DEV, generator=g).to(bf)
    diff = list(leaves.values())

    def run():
        out = ssd_scan_autograd(leaves["x"], leaves["dt"], leaves["A"], leaves["B"], leaves["C"], 256,
                                D=leaves["D"], dt_bias=leaves["dt_bias"], dt_softplus=True)
        return [out] + list(torch.autograd.grad(out, diff, gout))
    return run


def same(a, b):
    return len(a) == len(b) and all(x.shape == y.shape and x.dtype == y.dtype and torch.equal(x, y)
                                    for x, y in zip(a, b))


def sync():
    if DEV == "cuda":
        torch.cuda.synchronize()


def times(run, calls):
    sync()
    t0 = time.perf_counter()
    for _ in range(calls):
        run()
    t1 = time.perf_counter()
    sync()
    t2 = time.perf_counter()
    return (t1 - t0) / calls * 1e3, (t2 - t0) / calls * 1e3


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out")
    ap.add_argument("--calls", type=int, default=50)
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--smoke", action="store_true", help="CPU, interpreter: the script's logic only")
    a = ap.parse_args()
    if a.smoke:
        a.calls, a.repeats = 1, 1
    elif not torch.cuda.is_available():
        print("fastlaunch_check: needs a GPU", file=sys.stderr)
        return 2
    t_start = time.time()
    work = {"block": block_workload(a.seed), "ssd": ssd_workload(a.seed + 1)}
    if a.smoke:  # the block under the interpreter takes minutes: the SSD alone shows the logic
        work.pop("block")
    mods = fastlaunch_modules()
    print(f"fastlaunch modules: {[m.__name__ for m in mods]}; enabled at import: "
          f"{[m.ENABLED_AT_IMPORT and m.SUPPORTED for m in mods]}", flush=True)
    res, ok = {"checks": {}, "times_ms": {}}, True
    for name, run in work.items():
        t = time.time()
        set_fast(False)
        off1 = [x.detach().clone() for x in run()]
        off2 = [x.detach().clone() for x in run()]
        set_fast(True)
        on1 = [x.detach().clone() for x in run()]  # first calls: run() (compiles and prepares)
        on2 = [x.detach().clone() for x in run()]  # prepared
        sync()
        finite = all(torch.isfinite(x).all().item() for x in off1)
        c = {"deterministic_off": same(off1, off2), "on_equals_off": same(off1, on1) and same(off1, on2),
             "finite": finite, "tensors": len(off1)}
        res["checks"][name] = c
        ok &= c["on_equals_off"] and c["deterministic_off"] and finite
        print(f"{name}: {c} ({time.time() - t:.1f} s incl. compiles)", flush=True)
    prep = prepared_kernels()
    res["prepared_entries"] = prep
    print(f"prepared entries per kernel: {prep}")
    if not a.smoke:
        # Every library kernel is listed, launched here or not (decode steps, v6, cross merges are not
        # launched by these two workloads at these shapes): the check is that the workloads' launches
        # were prepared, i.e. the kernels both workloads always launch have entries.
        ok &= all(prep.get(k, 0) > 0 for k in ("_causal_conv1d_fwd_kernel", "_ssd_fused_fwd_kernel",
                                                "_ssd_bwd_walk_kernel", "_rmsnorm_gated_bwd_kernel"))
    for name, run in work.items():
        for on in (False, True):
            set_fast(on)
            run()
        samples = {False: [], True: []}
        for _ in range(a.repeats):
            for on in (False, True):
                set_fast(on)
                samples[on].append(times(run, a.calls))
        res["times_ms"][name] = {("on" if on else "off"): {
            "host": statistics.median(h for h, _ in s), "wall": statistics.median(w for _, w in s)}
            for on, s in samples.items()}
    set_fast(True)
    print(f"\n{'workload':10s} {'host off':>9s} {'host on':>9s} {'saved':>8s} | {'wall off':>9s} {'wall on':>9s} "
          f"{'saved':>8s}   (ms per fwd+bwd, median of {a.repeats} x {a.calls})")
    for name, tm in res["times_ms"].items():
        off, on = tm["off"], tm["on"]
        print(f"{name:10s} {off['host']:9.3f} {on['host']:9.3f} {off['host'] - on['host']:8.3f} | "
              f"{off['wall']:9.3f} {on['wall']:9.3f} {off['wall'] - on['wall']:8.3f}")
    print(f"checks {'OK' if ok else 'FAILED'}; {time.time() - t_start:.0f} s")
    res["ok"] = bool(ok)
    if a.out:
        Path(a.out, "fastlaunch_check.json").write_text(json.dumps(res, indent=1))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
