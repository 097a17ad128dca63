"""What the non-finite handling (issue 14: NaN/Inf stay where the recurrence
puts them) costs: the default SSD scan of the current library against other
builds of it, forward and forward+backward, at the BENCH_TARGETS ssd shapes.

  PYTHONPATH=packages/runner/python:packages/kernels/python python3 scripts/gpu/nan_cost.py \\
      --compare pre=.pre-nan --compare old=.old-pkgs/kernels-out/mamba2_simple --out $OUT/nan_cost.json

--compare LABEL=DIR (repeatable): DIR is a library or generated package: a
folder holding the Python package (.pre-nan/mamba2_kernels, a generated
package's <name>/) or the package folder itself. `.pre-nan/` is main's
library just before the change (git archive, see NOTES.md), so new/pre is the
change alone; the old package also has the restructure in between.

Every build is loaded in this process under its own module name (the custom
ops take a namespace named after it). Their Triton kernels are compiled
first in parallel subprocesses (--warm), so the timed process only loads
them from Triton's cache. Then each shape: the builds' outputs must agree with
the current one's (bf16, rel err <= 2e-2; a build that does not is reported
and not timed), then triton.testing.do_bench medians (ms), the builds
interleaved over --rounds rounds (the median of the round medians). Inputs
as bench's make_ssd_inputs (bf16 x/B/C, fp32 dt with dt_bias and softplus,
D per head, headdim 64, d_state 128, chunk 256). Prints a ratio table last
(time / the current library's: > 1 means that build is slower than the current).
--quick: one round, the first two shapes. --shapes small: CPU smoke test
shapes (TRITON_INTERPRET=1, one call each instead of do_bench).
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
CURRENT = os.path.join(_ROOT, "packages", "kernels", "python", "mamba2_kernels")

# (label, batch, seqlen, nheads, ngroups, seq_idx): BENCH_TARGETS' ssd shapes, and
# one packed (seq_idx) row, the path whose non-finite mask is a small dot
SHAPES = {
    "targets": [
        ("4,4096,80", 4, 4096, 80, 1, False),
        ("8,2048,64", 8, 2048, 64, 1, False),
        ("4,4096,64 g8", 4, 4096, 64, 8, False),
        ("1,16384,80", 1, 16384, 80, 1, False),
        ("4,4096,80 seq_idx", 4, 4096, 80, 1, True),
    ],
    "small": [
        ("1,64,2", 1, 64, 2, 1, False),
        ("1,64,2 seq_idx", 1, 64, 2, 1, True),
    ],
}
HEADDIM, DSTATE, CHUNK = 64, 128, 256
SMALL_DIMS = (16, 16)  # headdim, d_state for --shapes small


def package_dir(d):
    """The Python package inside DIR (or DIR itself)."""
    d = os.path.abspath(d)
    if os.path.isfile(os.path.join(d, "__init__.py")):
        return d
    subs = [os.path.join(d, s) for s in sorted(os.listdir(d)) if os.path.isfile(os.path.join(d, s, "__init__.py"))]
    if len(subs) != 1:
        raise SystemExit(f"nan_cost: {d} holds {len(subs)} Python packages ({subs}); pass the package folder itself")
    return subs[0]


def load(label, pkg):
    """Import the package at `pkg` as module `nan_cost_<label>`."""
    from pathlib import Path

    from mamba2_runner.pkgload import _load_aliased

    return _load_aliased(Path(pkg), "nan_cost_" + "".join(c if c.isalnum() else "_" for c in label))


def make_inputs(shape, device, small):
    """bench's inputs (make_ssd_inputs) for the shape; fp32 instead of bf16 for the CPU smoke shapes."""
    import torch

    from mamba2_runner.bench.checks import make_ssd_inputs
    from mamba2_runner.bench.configs import SsdConfig

    label, b, l, h, g, packed = shape
    p, n = SMALL_DIMS if small else (HEADDIM, DSTATE)
    inp = make_ssd_inputs(SsdConfig(label, b, l, h, p, n, g), device)
    if small:
        inp = {k: v.float() if v is not None else None for k, v in inp.items()}
    seq = None
    if packed:  # sequences of 1000 tokens, so every batch row holds several, starting mid-chunk
        seq = (torch.arange(l, device=device) // 1000).to(torch.int32)[None].expand(b, l).contiguous()
    return inp, seq


def calls(mod, inp, seq, chunk):
    """(forward, forward+backward) closures of the library's default scan."""
    import torch

    names = ("x", "dt", "A", "B", "C", "D", "dt_bias")
    leaves = {k: inp[k].detach().clone().requires_grad_() for k in names}
    grad_out = torch.randn_like(inp["x"])

    def fwd():
        return mod.mamba_chunk_scan_combined(inp["x"], inp["dt"], inp["A"], inp["B"], inp["C"], chunk, D=inp["D"],
                                             dt_bias=inp["dt_bias"], seq_idx=seq, dt_softplus=True)

    def fwd_bwd():
        out = mod.mamba_chunk_scan_combined(leaves["x"], leaves["dt"], leaves["A"], leaves["B"], leaves["C"], chunk,
                                            D=leaves["D"], dt_bias=leaves["dt_bias"], seq_idx=seq, dt_softplus=True)
        return torch.autograd.grad(out, list(leaves.values()), grad_out)

    return fwd, fwd_bwd


def warm(label, pkg, shapes, device, small):
    """Compile every kernel the timed calls launch (fills Triton's cache)."""
    import torch

    mod = load(label, pkg)
    for s in shapes:
        torch.manual_seed(0)
        inp, seq = make_inputs(s, device, small)
        fwd, fb = calls(mod, inp, seq, 64 if small else CHUNK)
        fwd()
        fb()
    if device == "cuda":
        torch.cuda.synchronize()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--compare", action="append", default=[], metavar="LABEL=DIR",
                    help="another build to time against the current library (repeatable)")
    ap.add_argument("--current", default=CURRENT, help="the current library (default: packages/kernels/python/mamba2_kernels)")
    ap.add_argument("--out", default=None, help="write the results here as JSON (a file, or a folder: nan_cost.json in it)")
    ap.add_argument("--shapes", choices=sorted(SHAPES), default="targets")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--warm", default=None, help=argparse.SUPPRESS)  # LABEL=DIR: compile only (subprocess)
    args = ap.parse_args()

    import torch

    device = "cuda" if torch.cuda.is_available() else "cpu"
    small = args.shapes == "small"
    shapes = SHAPES[args.shapes][: 2 if args.quick else None]
    if args.warm:
        label, _, d = args.warm.partition("=")
        warm(label, d, shapes, device, small)
        return

    builds = [("new", package_dir(args.current))]
    for c in args.compare:
        label, sep, d = c.partition("=")
        if not sep or not label or label == "new":
            raise SystemExit(f"nan_cost: --compare takes LABEL=DIR with a label other than 'new', got {c!r}")
        if not os.path.isdir(d):
            raise SystemExit(f"nan_cost: --compare {label}: {d} is not a folder")
        builds.append((label, package_dir(d)))

    t0 = time.time()
    if device == "cuda":  # compile in parallel, one process per build
        procs = [subprocess.Popen([sys.executable, __file__, "--warm", f"{lbl}={pkg}", "--shapes", args.shapes]
                                  + (["--quick"] if args.quick else []))
                 for lbl, pkg in builds]
        for (lbl, _), pr in zip(builds, procs):
            if pr.wait() != 0:
                print(f"nan_cost: warming {lbl} failed (exit {pr.returncode}); its timings will include compiles")
    print(f"compiled in {time.time() - t0:.1f} s")
    mods = {lbl: load(lbl, pkg) for lbl, pkg in builds}

    from triton.testing import do_bench

    from mamba2_runner.checks import rel_err

    results = {"device": torch.cuda.get_device_name() if device == "cuda" else "cpu",
               "builds": {lbl: pkg for lbl, pkg in builds}, "shapes": {}}
    rounds = 1 if args.quick or small else args.rounds
    for s in shapes:
        torch.manual_seed(0)
        inp, seq = make_inputs(s, device, small)
        fns = {lbl: calls(m, inp, seq, 64 if small else CHUNK) for lbl, m in mods.items()}
        ref_out = fns["new"][0]()
        row = {}
        for lbl, (fwd, fb) in fns.items():
            out = fwd()
            err = rel_err(out, ref_out)  # mamba2_runner.checks: NaN if out is not finite
            ok = bool(torch.isfinite(out).all()) and err <= 2e-2
            fb()  # the backward runs (and any first-call work happens) before timing
            row[lbl] = {"rel_err_vs_new": err, "ok": ok, "fwd": [], "fwd_bwd": []}
            if not ok:
                print(f"{s[0]}: {lbl} disagrees with new (rel err {err:.2e}): not timed")
        for _ in range(rounds):
            for lbl, (fwd, fb) in fns.items():
                if not row[lbl]["ok"]:
                    continue
                for key, fn in (("fwd", fwd), ("fwd_bwd", fb)):
                    if small:
                        t = time.perf_counter()
                        fn()
                        row[lbl][key].append((time.perf_counter() - t) * 1e3)
                    else:
                        row[lbl][key].append(do_bench(fn, warmup=10, rep=40))
        for r in row.values():
            for key in ("fwd", "fwd_bwd"):
                v = sorted(r[key])
                r[key + "_ms"] = v[len(v) // 2] if v else None
        results["shapes"][s[0]] = row
        del inp, fns
        print(f"{s[0]}: " + ", ".join(f"{lbl} {r['fwd_ms'] or float('nan'):.3f}/{r['fwd_bwd_ms'] or float('nan'):.3f} ms"
                                      for lbl, r in row.items()))
    results["seconds"] = time.time() - t0

    if args.out:
        path = os.path.join(args.out, "nan_cost.json") if os.path.isdir(args.out) else args.out
        with open(path, "w") as f:
            json.dump(results, f, indent=1)
        print(f"wrote {path}")

    others = [lbl for lbl, _ in builds if lbl != "new"]
    print(f"\nmedian ms (fwd | fwd+bwd), and other/new (> 1: that build is slower than new); {results['device']}")
    head = "| shape | new fwd | new fwd+bwd |" + "".join(f" {o} fwd | {o}/new fwd | {o} fwd+bwd | {o}/new fwd+bwd |"
                                                       for o in others)
    print(head)
    print("|" + "---|" * (head.count("|") - 1))
    for shape, row in results["shapes"].items():
        n = row["new"]

        def fmt(v):
            return f"{v:.3f}" if v is not None else "-"

        def ratio(a, b):
            return f"{a / b:.3f}" if a is not None and b else "-"

        cells = [shape, fmt(n["fwd_ms"]), fmt(n["fwd_bwd_ms"])]
        for o in others:
            r = row[o]
            cells += [fmt(r["fwd_ms"]), ratio(r["fwd_ms"], n["fwd_ms"]),
                      fmt(r["fwd_bwd_ms"]), ratio(r["fwd_bwd_ms"], n["fwd_bwd_ms"])]
        print("| " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
