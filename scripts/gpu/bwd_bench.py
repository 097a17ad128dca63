"""SSD backward versions on one GPU: correctness first, then timings vs mamba_ssm.

  PYTHONPATH=packages/runner/python:packages/kernels/python python3 scripts/gpu/bwd_bench.py --out $OUT
  (--quick: fewer shapes; --variants a,b: a subset; --build-conv: build causal-conv1d in the
  background meanwhile, MAX_JOBS 8; remove a stale /tmp/cc1d/lock first, a killed build leaves one
  and the next build waits on it forever)
  --variants v4-q32w8,v5s-q32w8 times v4 and v5s side by side in one run.
  --smoke: the CPU smoke test (no GPU; Triton's interpreter): every variant's check on a
  small fp32 problem (tolerance 1e-4), then one tiny shape timed by wall clock, no mamba_ssm,
  no profile; it shows the script and its variant settings run, not speed.

1. Every variant's gradients vs torch autograd through the float64 sequential
   reference (ref_scan) on fresh random bf16 inputs at every option (D, z,
   dt_bias/softplus/limit, initial states, seq_idx, ngroups 2, L not a multiple
   of the tile), tolerance 3e-2; a failing variant is not timed. Two backward
   runs must be bit-identical.
2. do_bench medians (ms) per shape: forward+backward through autograd
   (torch.autograd.grad, as bench.py), ours (mamba2_kernels.autograd with each
   backward variant) and mamba_ssm's mamba_chunk_scan_combined (chunk 256);
   backward alone for ours; peak extra memory of one forward+backward.
3. torch.profiler per-kernel split of the best variant at (4, 4096, 80).
Writes $OUT/bwd_bench.json and prints a table last.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import time

_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
for _p in (os.path.join(_ROOT, "packages", "runner", "python"), os.path.join(_ROOT, "packages", "kernels", "python")):
    if _p not in sys.path:
        sys.path.insert(0, _p)

from mamba2_runner.pkgload import select_device  # noqa: E402

DEVICE = select_device()  # 'cpu' turns Triton's interpreter on: before any kernel is imported

import torch  # noqa: E402
import triton  # noqa: E402

from mamba2_kernels import autograd as ag  # noqa: E402
from mamba2_kernels.kernels import ssd_bwd as bwd  # noqa: E402
from mamba2_kernels.kernels import ssd_bwd_T as bwd_T  # noqa: E402
from mamba2_kernels.kernels import ssd_bwd_v6 as bwd_v6  # noqa: E402
from mamba2_runner.reference.scan import ref_scan  # noqa: E402

F64 = torch.float64
NAMES = ["x", "dt", "A", "B", "C", "D", "z", "dt_bias", "initial_states"]


def variant_ctx(v):
    """Apply a variant's settings: module globals read at call time, V4_* of
    ssd_bwd (walks, chunk kernel of v4 and v5s), V5_* of ssd_bwd_T (v5s's two launches)."""
    bwd.BWD_IMPL = v["impl"]
    for k, val in v.items():
        if k == "impl":
            continue
        mod = bwd_T if k.startswith("V5_") else bwd_v6 if k.startswith("V6_") else bwd
        if not hasattr(mod, k):
            raise KeyError(f"variant setting {k}: {mod.__name__} has no such global; fix the variant table")
        setattr(mod, k, val)


def check(v, device, seed, small=False):
    """Gradient errors vs float64 autograd, all options, bf16 inputs."""
    torch.manual_seed(seed)
    b, l, h, p, g, n = (2, 1000, 8, 64, 2, 128) if not small else (2, 100, 4, 16, 2, 16)
    bf = torch.bfloat16 if not small else torch.float32
    inp = {
        "x": torch.randn(b, l, h, p, device=device).to(bf),
        "dt": torch.randn(b, l, h, device=device) - 3.0,
        "A": -torch.exp(torch.empty(h, device=device).uniform_(math.log(0.05), math.log(2.0))),
        "B": torch.randn(b, l, g, n, device=device).to(bf),
        "C": torch.randn(b, l, g, n, device=device).to(bf),
        "D": torch.randn(h, device=device),
        "z": torch.randn(b, l, h, p, device=device).to(bf),
        "dt_bias": torch.rand(h, device=device) * 2.0 - 1.0,
        "initial_states": torch.randn(b, h, p, n, device=device),
    }
    seq = torch.zeros(b, l, dtype=torch.int32, device=device)
    seq[0, l * 3 // 10:] = 1
    seq[0, l // 3:] = 2
    seq[1, l // 2 + 12:] = 1
    v6 = v["impl"] == "v6"
    seq_default = bwd_v6.V6_SEQ_IDX
    if v6:  # v6 computes calls without z (it gives those to v4): checked on what it computes, seq_idx on
        del inp["z"]
        bwd_v6.V6_SEQ_IDX = True
    consts = dict(dt_softplus=True, dt_limit=(0.002, 0.15))
    ref_in = {k: t.to(F64).requires_grad_() for k, t in inp.items()}
    out, fin = ref_scan(ref_in["x"], ref_in["dt"], ref_in["A"], ref_in["B"], ref_in["C"], D=ref_in["D"],
                        z=ref_in.get("z"), dt_bias=ref_in["dt_bias"], initial_states=ref_in["initial_states"],
                        seq_idx=seq, return_final_states=True, **consts)
    dout, dfin = torch.randn_like(out), torch.randn_like(fin)
    ((out * dout).sum() + (fin * dfin).sum()).backward()
    variant_ctx(v)
    bwd_v6.V6_FALLBACK = not v6  # a v6 check must run v6: a call it gives to v4 raises
    grads = []
    names = [k for k in NAMES if k in inp]
    for _ in range(2):
        tri = {k: t.clone().requires_grad_() for k, t in inp.items()}
        o, f = ag.ssd_scan_autograd(tri["x"], tri["dt"], tri["A"], tri["B"], tri["C"], 256, D=tri["D"],
                                    z=tri.get("z"),
                                    dt_bias=tri["dt_bias"], initial_states=tri["initial_states"], seq_idx=seq,
                                    return_final_states=True, **consts)
        gr = torch.autograd.grad((o.double() * dout).sum() + (f.double() * dfin).sum(), [tri[k] for k in names])
        grads.append(gr)
    bwd_v6.V6_FALLBACK = True
    bwd_v6.V6_SEQ_IDX = seq_default
    errs = {}
    for k, t in zip(names, grads[0]):
        r = ref_in[k].grad
        errs[k] = (t.double() - r).norm().item() / r.norm().item() if torch.isfinite(t).all() else math.inf
    identical = all(torch.equal(a, c) for a, c in zip(grads[0], grads[1]))
    return errs, identical


def inputs(b, l, h, p, g, n, z, device, bf=torch.bfloat16):
    f32 = torch.float32
    dt0 = torch.exp(torch.rand(h, device=device) * (math.log(0.1) - math.log(1e-3)) + math.log(1e-3))
    return {
        "x": torch.randn(b, l, h, p, device=device, dtype=bf),
        "dt": torch.randn(b, l, h, device=device, dtype=f32) * 0.5,
        "A": -torch.empty(h, device=device, dtype=f32).uniform_(1.0, 16.0),
        "B": torch.randn(b, l, g, n, device=device, dtype=bf),
        "C": torch.randn(b, l, g, n, device=device, dtype=bf),
        "D": torch.randn(h, device=device, dtype=f32),
        "z": torch.randn(b, l, h, p, device=device, dtype=bf) if z else None,
        "dt_bias": dt0 + torch.log(-torch.expm1(-dt0)),
    }


def fwdbwd(op, inp, chunk):
    leaves = {k: (t.detach().requires_grad_() if t is not None and t.is_floating_point() else t)
              for k, t in inp.items()}
    diff = [leaves[k] for k in ("x", "dt", "A", "B", "C", "D", "z", "dt_bias") if leaves.get(k) is not None]
    gout = torch.randn(inp["x"].shape, device=inp["x"].device, dtype=inp["x"].dtype)

    def run():
        out = op(leaves["x"], leaves["dt"], leaves["A"], leaves["B"], leaves["C"], chunk, D=leaves["D"],
                 z=leaves["z"], dt_bias=leaves["dt_bias"], dt_softplus=True)
        return torch.autograd.grad(out, diff, gout)
    return run


def timed(fn, smoke):
    """Median ms: do_bench on the GPU; in the smoke test three wall-clock runs after one warm-up."""
    if not smoke:
        return triton.testing.do_bench(fn, warmup=50, rep=300, return_mode="median")
    fn()
    ts = []
    for _ in range(3):
        t = time.perf_counter()
        fn()
        ts.append((time.perf_counter() - t) * 1e3)
    return sorted(ts)[1]


def peak_mib(fn):
    if not torch.cuda.is_available():
        return float("nan")
    torch.cuda.synchronize()
    torch.cuda.reset_peak_memory_stats()
    base = torch.cuda.memory_allocated()
    fn()
    torch.cuda.synchronize()
    return (torch.cuda.max_memory_allocated() - base) / 2**20


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=".")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--build-conv", action="store_true")
    ap.add_argument("--variants", default="")
    ap.add_argument("--smoke", action="store_true")
    ap.add_argument("--no-z", action="store_true", help="leave out the z row (v6 gives z to v4)")
    ap.add_argument("--shapes", default="", help="comma list of shape indices to run (0-based, in the table's order)")
    a = ap.parse_args()
    if DEVICE == "cpu" and not a.smoke:
        raise SystemExit("bwd_bench.py: no GPU visible; --smoke runs the CPU smoke test instead")
    os.makedirs(a.out, exist_ok=True)
    t_start = time.time()
    conv = None
    if a.build_conv:
        if os.path.exists("/tmp/cc1d/lock"):
            os.remove("/tmp/cc1d/lock")
        log = open(os.path.join(a.out, "cc1d.log"), "w")
        conv = subprocess.Popen([sys.executable, ".baseline/build_causal_conv1d.py", ".baseline/causal-conv1d",
                                 "--out", a.out], stdout=log, stderr=subprocess.STDOUT,
                                env=dict(os.environ, MAX_JOBS="8"))
    dev = DEVICE
    res = {"gpu": torch.cuda.get_device_name() if dev == "cuda" else "cpu (smoke)", "torch": torch.__version__, "triton": triton.__version__,
           "checks": {}, "rows": []}
    # every row sets every global it relies on (module globals persist between rows); rows differ from
    # these bases only where they say so
    walk = dict(V4_WALK_WARPS=4, V4_WALK_MAXNREG=168)
    v4 = dict(impl="v4", V4_BLOCK_Q=32, V4_CHUNK_WARPS=8, _V4_MIN_PROGRAMS=528, **walk)
    # states every 128 positions, 64-row blocks, walk tile 32, heads split below 2048 pair programs
    v6 = dict(impl="v6", V6_CHUNK=128, V6_BLOCK=64, V6_WARPS=4, V6_PAIR_WARPS=4, V6_STAGES=2,
              V6_MIN_PAIR_PROGRAMS=2048, V6_SUB=32, **walk)
    variants = {
        "v4-q32w8": v4,
        "v4-ns1": dict(v4, _V4_MIN_PROGRAMS=512),
        # NOTES.md "Backward v6"
        "v6": v6,
        "v6-ns1": dict(v6, V6_MIN_PAIR_PROGRAMS=0),
        "v6-k256": dict(v6, V6_CHUNK=256),
        "v6-sub64": dict(v6, V6_SUB=64),
        # walk tiles (V6_SUB) and walk warps / register cap (v4's walk globals); 2026-12-02
        "v6-sub64w8": dict(v6, V6_SUB=64, V4_WALK_WARPS=8, V4_WALK_MAXNREG=0),
        "v6-sub128w8": dict(v6, V6_SUB=128, V4_WALK_WARPS=8, V4_WALK_MAXNREG=0),
        # the default from 2026-12-02: chunk 128, walk tile 64, no head split
        "v6-sub64-ns1": dict(v6, V6_MIN_PAIR_PROGRAMS=0, V6_SUB=64),
        "v6-k256-sub64-ns1": dict(v6, V6_CHUNK=256, V6_MIN_PAIR_PROGRAMS=0, V6_SUB=64),
        "v6-w4p8": dict(v6, V6_CHUNK=256, V6_PAIR_WARPS=8),
        "v6-w4p4": dict(v6, V6_CHUNK=256),
        "v6-w4p8ns1": dict(v6, V6_CHUNK=256, V6_PAIR_WARPS=8, V6_MIN_PAIR_PROGRAMS=0),
        "v6-k128": dict(v6, V6_PAIR_WARPS=8),
        "v6-w4p8s3": dict(v6, V6_CHUNK=256, V6_PAIR_WARPS=8, V6_STAGES=3),
        # the transposed chunk kernel in two launches (NOTES.md, v5s; v5, one launch, was removed)
        "v5s-q32w8": dict(impl="v5s", V4_BLOCK_Q=32, V5_X_WARPS=8, V5_BC_WARPS=8),
    }
    # --variants picks a subset, e.g. --variants v4-q32w8,v5s-q32w8 (q64 and the removed v3 are
    # recorded in bench/results/2026-12-01-h200-ssd-bwd-v4.json)
    if a.variants:
        variants = {k: v for k, v in variants.items() if k in a.variants.split(",")}
    ok = {}
    for name, v in variants.items():
        t = time.time()
        try:
            errs, ident = check(v, dev, 1234 + len(ok), small=a.smoke)
            good = all(e <= (1e-4 if a.smoke else 3e-2) for e in errs.values()) and ident
        except Exception as e:  # noqa: BLE001
            errs, ident, good = {"error": repr(e)[:300]}, False, False
        res["checks"][name] = {"errs": errs, "identical": ident, "ok": good}
        ok[name] = good
        print(f"check {name}: ok={good} identical={ident} "
              + " ".join(f"{k}={e:.1e}" if isinstance(e, float) else f"{k}={e}" for k, e in errs.items())
              + f" ({time.time() - t:.0f}s)", flush=True)

    base = None
    if not a.smoke:
        from mamba2_runner.bench import load_mamba_ssm
        base = load_mamba_ssm()["mamba_chunk_scan_combined"]
    shapes = [(4, 4096, 80, 64, 1, 128, False), (8, 2048, 64, 64, 1, 128, False),
              (4, 4096, 64, 64, 8, 128, False), (2, 128, 8, 64, 1, 128, False),
              (1, 65536, 80, 64, 1, 128, False), (4, 4096, 80, 64, 1, 128, True)]
    if a.quick:
        shapes = shapes[:2] + shapes[3:4]
    if a.no_z:
        shapes = [sh for sh in shapes if not sh[-1]]
    if a.shapes:
        shapes = [shapes[int(i)] for i in a.shapes.split(",")]
    if a.smoke:
        shapes = [(1, 80, 4, 16, 2, 16, True)]
    chunk = 32 if a.smoke else 256
    for b, l, h, p, g, n, z in shapes:
        inp = inputs(b, l, h, p, g, n, z, dev, torch.float32 if a.smoke else torch.bfloat16)
        shape = f"{b},{l},{h}" + (f" g{g}" if g > 1 else "") + (" z" if z else "")
        row = {"shape": shape, "fwdbwd": {}, "bwd": {}, "mem_mib": {}}
        if base is not None:
            fb = fwdbwd(base, inp, 256)
            row["fwdbwd"]["mamba_ssm"] = timed(fb, a.smoke)
            row["mem_mib"]["mamba_ssm"] = peak_mib(fb)
        for name, v in variants.items():
            if not ok[name]:
                continue
            variant_ctx(v)
            fb = fwdbwd(ag.ssd_scan_autograd, inp, chunk)
            row["fwdbwd"][name] = timed(fb, a.smoke)
            row["mem_mib"][name] = peak_mib(fb)
            dout = torch.randn_like(inp["x"])

            def bo(_i=inp, _d=dout):
                return bwd.ssd_bwd(_d, _i["x"], _i["dt"], _i["A"], _i["B"], _i["C"], D=_i["D"], z=_i["z"],
                                   dt_bias=_i["dt_bias"], dt_softplus=True)
            row["bwd"][name] = timed(bo, a.smoke)
        res["rows"].append(row)
        print(json.dumps(row), flush=True)
        del inp
        if dev == "cuda":
            torch.cuda.empty_cache()
        with open(os.path.join(a.out, "bwd_bench.json"), "w") as f:
            json.dump(res, f, indent=1)

    # per-kernel split of the fastest v4 variant at the first shape
    cand = [k for k in variants if ok[k]]
    if cand and res["rows"] and not a.smoke and res["rows"][0]["shape"] == "4,4096,80":
        r0 = res["rows"][0]
        best = min(cand, key=lambda k: r0["fwdbwd"].get(k, math.inf))
        variant_ctx(variants[best])
        inp = inputs(4, 4096, 80, 64, 1, 128, False, dev)
        fb = fwdbwd(ag.ssd_scan_autograd, inp, 256)
        for _ in range(3):
            fb()
        torch.cuda.synchronize()
        from torch.profiler import ProfilerActivity, profile
        with profile(activities=[ProfilerActivity.CUDA]) as prof:
            for _ in range(5):
                fb()
            torch.cuda.synchronize()
        split = {}
        for e in prof.key_averages():
            if e.device_type.name == "CUDA" or getattr(e, "self_device_time_total", 0) > 0:
                t_us = getattr(e, "self_device_time_total", None) or getattr(e, "self_cuda_time_total", 0)
                if t_us > 0:
                    split[e.key[:60]] = t_us / 5 / 1000.0
        res["split"] = {"variant": best, "ms_per_call": dict(sorted(split.items(), key=lambda kv: -kv[1]))}
        print("split", best, json.dumps({k: round(v, 3) for k, v in list(res["split"]["ms_per_call"].items())[:10]}))
        with open(os.path.join(a.out, "bwd_bench.json"), "w") as f:
            json.dump(res, f, indent=1)

    if conv is not None:
        rc = conv.wait(timeout=max(10, 330 - (time.time() - t_start)))
        print("causal-conv1d build rc", rc, open(os.path.join(a.out, "cc1d.log")).read()[-300:])

    print(f"\n{'shape':18} " + " ".join(f"{k:>10}" for k in ["mamba_ssm", *variants]) + "   (fwd+bwd ms; ratio best)")
    for row in res["rows"]:
        fbr = row["fwdbwd"]
        ours = [v for k, v in fbr.items() if k != "mamba_ssm"]
        ratio = fbr.get("mamba_ssm", float("nan")) / min(ours) if ours else float("nan")
        print(f"{row['shape']:18} " + " ".join(f"{fbr.get(k, float('nan')):10.3f}" for k in ["mamba_ssm", *variants])
              + f"   {ratio:.2f}x")
    print(f"{'bwd only':18} " + " ".join(f"{'':>10}" for _ in [0]) + " ".join(f"{k:>10}" for k in variants))
    for row in res["rows"]:
        print(f"{row['shape']:18} {'':>10} " + " ".join(f"{row['bwd'].get(k, float('nan')):10.3f}" for k in variants))
    print("peak MiB")
    for row in res["rows"]:
        print(f"{row['shape']:18} " + " ".join(f"{row['mem_mib'].get(k, float('nan')):10.0f}"
                                               for k in ["mamba_ssm", *variants]))


if __name__ == "__main__":
    main()
