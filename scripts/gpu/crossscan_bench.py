"""Cross scans (issue 12) on the GPU: correctness, then bf16 timings.

    python scripts/gpu/crossscan_bench.py --out bench/results/<date>-h200-crossscan.json
    TRITON_INTERPRET=1 python scripts/gpu/crossscan_bench.py --smoke --out /tmp/cs.json   (CPU, tiny)
    --cases 56x56 14x14 bidirectional: a subset; --skip-checks: no part 1; exit status 1 if any check fails.

1. Correctness at small shapes, cuda fp32 and bf16: cross_scan_combined's
   output and every gradient (x, dt, A, B, C, D, z, dt_bias) against torch
   autograd through the float64 reference (mamba2_runner.reference.ref_cross_scan),
   every merge strategy, K = 2 and 4.
2. Timings (triton.testing.do_bench medians, bf16 x/B/C, fp32 dt, D per order
   and head, dt_bias + softplus, no z), fwd and fwd+bwd:
     four-way (cross2d) at (b 16, 56x56, 8 heads, P 64, N 64) and (b 32, 14x14, 16 heads, P 64, N 64);
     bidirectional at (4, 4096 = 1 x 4096, 80 heads, P 64, N 128, ngroups 1).
   Providers: generated (cross_scan_combined as users call it: the default
   merge, cross_scan.MERGE, 'chain' since 2026-12-02), generated-buffer (merge
   'buffer'), generated-accumulate (merge 'accumulate'), generated-chain (merge
   'chain': the last order's epilogue is the merge, no merge kernel), mamba_ssm_perm (what users write: flip/transpose to
   contiguous copies + mamba_ssm's mamba_chunk_scan_combined per order, chunk
   256 + un-permute + sum), and, forward only, unidirectional (our
   mamba_chunk_scan_combined over the same tokens in one order) and the
   floor (bytes / 4.8e12 B/s, flops / 990e12 flop/s, counted below).
   Every timed row is checked first: its output (batch row 0) against the
   float64 reference; a fwd+bwd row's gradients against mamba_ssm_perm's.
Writes a JSON like bench/results (config.kind "crossscan", raw ms) to --out
and prints a ratio table last. --smoke: CPU interpreter, tiny shapes, our
providers only, perf_counter instead of do_bench (tests the script).
"""
from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT / "packages/kernels/python"), str(ROOT / "packages/runner/python")]
from mamba2_runner.checks import rel_err as rel  # noqa: E402  (NaN when the output is not finite)

T0 = time.time()
BW = 4.8e12
FLOPS = 990e12
K_OF = {"bidirectional": 2, "cross2d": 4}
CASES = [
    dict(name="cross2d-b16-56x56-h8", directions="cross2d", batch=16, height=56, width=56, nheads=8,
         headdim=64, dstate=64, ngroups=1),
    dict(name="cross2d-b32-14x14-h16", directions="cross2d", batch=32, height=14, width=14, nheads=16,
         headdim=64, dstate=64, ngroups=1),
    dict(name="bidirectional-b4-1x4096-h80", directions="bidirectional", batch=4, height=1, width=4096,
         nheads=80, headdim=64, dstate=128, ngroups=1),
]
SMOKE_CASES = [
    dict(name="cross2d-smoke-3x5", directions="cross2d", batch=1, height=3, width=5, nheads=2,
         headdim=16, dstate=16, ngroups=1),
    dict(name="bidirectional-smoke-1x37", directions="bidirectional", batch=1, height=1, width=37, nheads=2,
         headdim=16, dstate=16, ngroups=1),
]
NAMES = ("x", "dt", "A", "B", "C", "D", "z", "dt_bias")


def floor(c):
    """Bytes and flops one forward and one fwd+bwd must move / do (bf16 x, y, B,
    C; fp32 dt): x read once and y written once for all K orders together,
    each order's dt, B, C read once; flops per order b*L*h*(2*Q*P + 4*N*P)
    (32-row tile: intra-chunk C B^T-weighted x, state in and out) + C B^T
    per group (2*Q*N). fwd+bwd: x read twice, dy read, dx written, y written;
    dt, B, C read and their gradients written per order; ~3x the flops."""
    b, l, h, p, n, g = c["batch"], c["height"] * c["width"], c["nheads"], c["headdim"], c["dstate"], c["ngroups"]
    K, Q = K_OF[c["directions"]], 32
    xy = b * l * h * p * 2
    per_order = b * l * h * 4 + 2 * b * l * g * n * 2
    fl = K * (b * l * h * (2 * Q * p + 4 * n * p) + b * l * g * 2 * Q * n)
    fwd_bytes = 2 * xy + K * per_order
    fb_bytes = 5 * xy + 2 * K * per_order
    out = {}
    for mode, by, f in (("fwd", fwd_bytes, fl), ("fwdbwd", fb_bytes, 3 * fl)):
        out[mode] = dict(bytes=by, flops=f, ms_bytes=by / BW * 1e3, ms_flops=f / FLOPS * 1e3,
                         ms=max(by / BW, f / FLOPS) * 1e3, bound="bytes" if by / BW > f / FLOPS else "flops",
                         bandwidth=BW, matmul_rate=FLOPS)
    return out


def make_inputs(c, device, dtype, z=False, seed=0):
    import torch

    g = torch.Generator(device="cpu").manual_seed(seed)
    b, H, W, h, p, n, gr = (c[k] for k in ("batch", "height", "width", "nheads", "headdim", "dstate", "ngroups"))
    K, l = K_OF[c["directions"]], H * W

    def r(*s, scale=1.0, shift=0.0):
        return (torch.randn(*s, generator=g) * scale + shift).to(device)

    t = dict(
        x=r(b, l, h, p).to(dtype),
        dt=r(b, K, l, h, shift=-2.0),
        A=-torch.exp(torch.empty(K, h).uniform_(math.log(0.05), math.log(2.0), generator=g)).to(device),
        B=r(b, K, l, gr, n).to(dtype),
        C=r(b, K, l, gr, n).to(dtype),
        D=r(K, h),
        z=r(b, l, h, p).to(dtype) if z else None,
        dt_bias=(torch.rand(K, h, generator=g) * 2.0 - 1.0).to(device),
    )
    return t


def ours(t, c, merge):
    from mamba2_kernels.cross_scan import cross_scan_combined

    return cross_scan_combined(t["x"], t["dt"], t["A"], t["B"], t["C"], c["height"], c["width"], c["directions"],
                               D=t["D"], z=t["z"], dt_bias=t["dt_bias"], dt_softplus=True, merge=merge)


def reference(t, c):
    from mamba2_runner.reference import ref_cross_scan

    return ref_cross_scan(t["x"], t["dt"], t["A"], t["B"], t["C"], c["height"], c["width"], c["directions"],
                          D=t["D"], z=t["z"], dt_bias=t["dt_bias"], dt_softplus=True)


def mamba_ssm_perm(scan, t, c):
    """What users write: each order's contiguous permuted copies (the reference's perm_tokens), the scan,
    the copy back (unperm_tokens), the sum."""
    from mamba2_runner.reference.cross_scan import perm_tokens as perm
    from mamba2_runner.reference.cross_scan import unperm_tokens as unperm

    H, W = c["height"], c["width"]
    orders = (0, 2) if c["directions"] == "bidirectional" else (0, 1, 2, 3)
    y = None
    for k, o in enumerate(orders):
        yk = scan(perm(t["x"], H, W, o), perm(t["dt"][:, k], H, W, o), t["A"][k], perm(t["B"][:, k], H, W, o),
                  perm(t["C"][:, k], H, W, o), 256, D=t["D"][k], dt_bias=t["dt_bias"][k], dt_softplus=True)
        yk = unperm(yk, H, W, o)
        y = yk if y is None else y + yk
    if t["z"] is not None:
        import torch.nn.functional as F

        y = y * F.silu(t["z"])
    return y


def unidirectional(t, c):
    from mamba2_kernels import mamba_chunk_scan_combined

    return mamba_chunk_scan_combined(t["x"], t["dt"][:, 0], t["A"][0], t["B"][:, 0], t["C"][:, 0], 256,
                                     D=t["D"][0], dt_bias=t["dt_bias"][0], dt_softplus=True)


def correctness(device, smoke):
    """fwd + every gradient vs float64 autograd through the reference, small shapes."""
    import torch

    # headdim / d_state as in the timed cases: the backward's kernels compiled here
    # (same constexprs) are reused there, which keeps the run's compile time down
    small = [dict(name="cross2d-5x7", directions="cross2d", batch=2, height=5, width=7, nheads=4, headdim=64,
                  dstate=64, ngroups=2),
             dict(name="bidirectional-1x300", directions="bidirectional", batch=2, height=1, width=300, nheads=4,
                  headdim=64, dstate=128, ngroups=2)]
    if smoke:
        small = [dict(s, batch=1, headdim=16, dstate=16, width=min(s["width"], 37)) for s in small]
    dtypes = [torch.float32] if smoke else [torch.float32, torch.bfloat16]
    tols = {torch.float32: 2e-3, torch.bfloat16: 3e-2}
    out = []
    for c in small:
        for dtype in dtypes:
            for merge in ("buffer", "accumulate", "chain"):
                t = make_inputs(c, device, dtype, z=True, seed=1)
                a = {k: t[k].clone().requires_grad_() for k in NAMES}
                r = {k: t[k].double().clone().requires_grad_() for k in NAMES}
                y = ours(a, c, merge)
                yr = reference(r, c)
                dout = torch.randn(yr.shape, dtype=torch.float64, device=device)
                y.backward(dout.to(y.dtype))
                yr.backward(dout)
                errs = {"out": rel(y, yr), **{f"d{k}": rel(a[k].grad, r[k].grad) for k in NAMES}}
                tol = tols[dtype]
                ok = all(v <= tol for v in errs.values())
                out.append(dict(case=c["name"], dtype=str(dtype).split(".")[-1], merge=merge, tol=tol, ok=ok,
                                errs=errs))
                print(f"check {c['name']:22s} {str(dtype):15s} {merge:10s} {'ok' if ok else 'FAIL'} "
                      f"max err {max(errs.values()):.2e}", flush=True)
    return out


def timer(smoke, warmup, rep):
    if smoke:
        def t(fn, grad_to_none=None):
            fn()
            s = time.perf_counter()
            fn()
            return (time.perf_counter() - s) * 1e3
        return t
    import triton.testing

    return lambda fn, grad_to_none=None: triton.testing.do_bench(fn, warmup=warmup, rep=rep, grad_to_none=grad_to_none)


def bench(device, smoke, warmup, rep, only=None, out=None, keep=None):
    import torch

    bench_ms = timer(smoke, warmup, rep)
    cases = [c for c in (SMOKE_CASES if smoke else CASES) if not only or any(o in c["name"] for o in only)]
    dtype = torch.float32 if smoke else torch.bfloat16
    scan = None
    if not smoke:
        from mamba2_runner.bench.baseline import load_mamba_ssm

        scan = load_mamba_ssm()["mamba_chunk_scan_combined"]
    providers = {}  # mamba_ssm_perm first: the fwd+bwd rows compare their gradients with its
    if scan is not None:
        providers["mamba_ssm_perm"] = lambda t, c: mamba_ssm_perm(scan, t, c)
    providers["generated"] = lambda t, c: ours(t, c, None)
    providers["generated-buffer"] = lambda t, c: ours(t, c, "buffer")
    providers["generated-accumulate"] = lambda t, c: ours(t, c, "accumulate")
    providers["generated-chain"] = lambda t, c: ours(t, c, "chain")
    if keep:
        providers = {k: v for k, v in providers.items() if k in keep}
    results = []
    for c in cases:
        fl = floor(c)
        t = make_inputs(c, device, dtype, seed=2)
        one = {k: (v[:1] if k in ("x", "dt", "B", "C", "z") and v is not None else v) for k, v in t.items()}
        with torch.no_grad():
            ref0 = reference(one, dict(c, batch=1))
            from mamba2_runner.reference import ref_scan

            uni0 = ref_scan(one["x"], one["dt"][:, 0], t["A"][0], one["B"][:, 0], one["C"][:, 0], D=t["D"][0],
                            dt_bias=t["dt_bias"][0], dt_softplus=True)
        tol = 2e-3 if dtype == torch.float32 else 3e-2
        for mode in ("fwd", "fwdbwd"):
            row = dict(config=dict(c, kind="crossscan", mode=mode, dtype=str(dtype).split(".")[-1], has_z=False,
                                   chunk=256, orders=K_OF[c["directions"]]),
                       floor=fl[mode], providers={})
            grads = {}
            dout = None  # one upstream gradient per case, shared by every provider (their gradients are compared)
            provs = dict(providers)
            if mode == "fwd" and (not keep or "unidirectional" in keep):
                provs["unidirectional"] = unidirectional
            for name, fn in provs.items():
                try:
                    if mode == "fwd":
                        with torch.no_grad():
                            y = fn(t, c)
                        err = rel(y[:1], uni0 if name == "unidirectional" else ref0)
                        ok = err <= tol
                        ms = bench_ms(lambda: fn(t, c)) if ok else None
                        entry = dict(status="ok" if ok else "wrong", err=err, tol=tol, median_ms=ms)
                    else:
                        a = {k: (v.clone().requires_grad_() if v is not None else None) for k, v in t.items()}
                        y = fn(a, c)
                        if dout is None:
                            gen = torch.Generator(device=y.device).manual_seed(3)
                            dout = torch.randn(y.shape, device=y.device, dtype=y.dtype, generator=gen)
                        y.backward(dout)
                        err = rel(y[:1], ref0)
                        grads[name] = {k: a[k].grad.clone() for k in NAMES if a[k] is not None}
                        gerr = None
                        first = next(iter(grads))  # mamba_ssm_perm on the GPU; generated in --smoke
                        if name != first:
                            gerr = {k: rel(grads[name][k], grads[first][k]) for k in grads[name]}
                        # the output is checked against float64 (the gate for timing); the
                        # gradients against the first provider's, mamba_ssm_perm's on the GPU
                        # (bf16 both: a cross-check, 5e-2), from the same upstream gradient
                        grad_ok = gerr is None or all(v <= 5e-2 for v in gerr.values())
                        leaves = [a[k] for k in NAMES if a[k] is not None]

                        def step():
                            fn(a, c).backward(dout)
                        ms = bench_ms(step, grad_to_none=leaves) if err <= tol else None
                        status = "ok" if err <= tol and grad_ok else ("grad-mismatch" if err <= tol else "wrong")
                        entry = dict(status=status, err=err, tol=tol, grad_ref=None if gerr is None else first, grad_err=gerr,
                                     median_ms=ms)
                except Exception as e:  # a provider that fails is reported, not hidden
                    entry = dict(status="error", error=f"{type(e).__name__}: {e}"[:500], median_ms=None)
                row["providers"][name] = entry
                print(f"{c['name']:30s} {mode:6s} {name:22s} {entry['status']:6s} "
                      f"{entry.get('median_ms') or float('nan'):8.3f} ms  err {entry.get('err')}", flush=True)
            base = row["providers"].get("mamba_ssm_perm", {}).get("median_ms")
            for name, e in row["providers"].items():
                if e.get("median_ms"):
                    if base:
                        e["speedup_vs_mamba_ssm_perm"] = base / e["median_ms"]
                    e["floor_fraction"] = row["floor"]["ms"] / e["median_ms"]
            results.append(row)
            if out:  # every finished row survives a timeout or a crash of a later one
                Path(out).parent.mkdir(parents=True, exist_ok=True)
                Path(out).write_text(json.dumps(dict(partial=True, results=results), indent=1))
            print(f"  ({time.time() - T0:.0f} s)", flush=True)
        del t
        if device == "cuda":
            torch.cuda.empty_cache()
    return results


def table(results):
    lines = ["", "case                              mode    provider               ms      x vs perm  x floor  vs uni"]
    uni = {}
    for r in results:
        u = r["providers"].get("unidirectional", {}).get("median_ms")
        if u:
            uni[r["config"]["name"]] = u
    for r in results:
        for name, e in r["providers"].items():
            ms = e.get("median_ms")
            if not ms:
                lines.append(f"{r['config']['name']:33s} {r['config']['mode']:7s} {name:22s} {e['status']}")
                continue
            u = uni.get(r["config"]["name"]) if r["config"]["mode"] == "fwd" and name != "unidirectional" else None
            lines.append(f"{r['config']['name']:33s} {r['config']['mode']:7s} {name:22s} {ms:7.3f}  "
                         f"{e.get('speedup_vs_mamba_ssm_perm', float('nan')):9.2f}  {ms / r['floor']['ms']:7.1f}  "
                         f"{(ms / u) if u else float('nan'):6.2f}")
    lines.append("(x vs perm: mamba_ssm_perm ms / ms; x floor: ms / floor ms; vs uni: ms / one unidirectional scan)")
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", required=True)
    ap.add_argument("--smoke", action="store_true", help="CPU interpreter, tiny shapes, our providers only")
    ap.add_argument("--warmup", type=int, default=25, help="do_bench warmup (ms)")
    ap.add_argument("--rep", type=int, default=100, help="do_bench rep (ms)")
    ap.add_argument("--skip-checks", action="store_true", help="skip part 1 (small-shape correctness)")
    ap.add_argument("--cases", nargs="*", help="time only the cases whose name contains one of these")
    ap.add_argument("--providers", default="", help="comma list: time only these providers (unidirectional is "
                    "timed with the forward rows whenever it is kept or no list is given)")
    args = ap.parse_args()
    if args.smoke:
        os.environ["TRITON_INTERPRET"] = "1"
    import torch
    import triton

    device = "cpu" if args.smoke else "cuda"
    t0 = time.time()
    checks = [] if args.skip_checks else correctness(device, args.smoke)
    print(f"checks done at {time.time() - t0:.0f} s", flush=True)
    keep = [p for p in args.providers.split(",") if p]
    results = bench(device, args.smoke, args.warmup, args.rep, args.cases, args.out, keep=keep)
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    except OSError:
        commit = None
    meta = dict(gpu=torch.cuda.get_device_name() if device == "cuda" else "cpu (TRITON_INTERPRET)",
                torch=torch.__version__, triton=triton.__version__, commit=commit, smoke=args.smoke,
                timer="perf_counter" if args.smoke else f"do_bench(warmup={args.warmup}, rep={args.rep}) median",
                seconds=round(time.time() - t0, 1))
    doc = dict(meta=meta, checks=checks, results=results)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(doc, indent=1))
    print(table(results))
    bad = [c for c in checks if not c["ok"]] + [
        (r["config"]["name"], r["config"]["mode"], n) for r in results for n, e in r["providers"].items()
        if e["status"] != "ok"]
    print(f"wrote {args.out} in {meta['seconds']} s; {'all checks ok' if not bad else f'NOT OK: {bad}'}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
