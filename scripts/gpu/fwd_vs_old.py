"""The fused SSD forward against the old package (issue 11 done-when 3: within
+-3% of .old-pkgs at the BENCH_TARGETS forward shapes): main (the current
library as it defaults: ssd_fused_dispatch.REWALK "auto", MASK "auto"), cand
(the same library with MASK "product": the decay mask on the product everywhere,
main's default before 2026-12-02d call37; NOTES "Exponent mask with a sound flag"), old
(.old-pkgs, 631a99a) and pre (.pre-nan), forward only, one process, one GPU run
of about a minute.

  PYTHONPATH=packages/runner/python:packages/kernels/python python3 scripts/gpu/fwd_vs_old.py \\
      --old .old-pkgs/kernels-out/mamba2_simple --pre .pre-nan --out $OUT/fwd_vs_old.json

Every build is first checked against the float64 reference (mamba2_runner.reference.ref_scan,
seq_idx included) on the bench's check slice (first and last batch row, first and last head
of the first and last group, the whole sequence): rel err <= 1e-2 (the bench's bf16 SSD
tolerance, bench/checks.py TOL_SSD), finite; a build that fails is reported and not timed.
Then triton.testing.do_bench medians (ms) over --rounds rounds (default 7), the builds
interleaved and their order rotated each round; the table gives the median of the round
medians and the ratios to old. Inputs: nan_cost.make_inputs (bench's make_ssd_inputs, bf16,
headdim 64, d_state 128, chunk 256; seq_idx: sequences of 1000 tokens).
--shapes small: a CPU smoke run (TRITON_INTERPRET=1, two tiny shapes, one call per round).
"""
from __future__ import annotations

import argparse
import importlib
import json
import os
import subprocess
import sys
import time

_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, _HERE)
import nan_cost  # noqa: E402  (SHAPES, make_inputs, calls, load, package_dir)

TOL = 1e-2  # bench/checks.py TOL_SSD: bf16 output against the float64 reference


# the dispatch settings of the two builds of the current library (set on each copy: an env var such as
# MAMBA2_FWD_MASK in the device's shell then changes neither)
MAIN = "REWALK:auto,MASK:auto"
CAND = "REWALK:auto,MASK:product"


def set_form(mod, form):
    """Set the library copy `mod`'s ssd_fused_dispatch attributes from `form` ("NAME:VALUE,..."); False if
    it lacks one of them."""
    try:
        disp = importlib.import_module(mod.__name__ + ".kernels.ssd_fused_dispatch")
    except ImportError:
        return False
    pairs = [kv.split(":", 1) for kv in form.split(",")]
    if not all(hasattr(disp, k) for k, _ in pairs):
        return False
    for k, v in pairs:
        setattr(disp, k, v)
    return True


def builds_from(args):
    """[(label, package dir, dispatch settings or None)]."""
    cur = nan_cost.package_dir(args.current)
    out = [("main", cur, MAIN), ("cand", cur, CAND)]
    for label, d in (("old", args.old), ("pre", args.pre)):
        if d:
            if not os.path.isdir(d):
                raise SystemExit(f"fwd_vs_old: --{label} {d} is not a folder (carry .old-pkgs / .pre-nan to the device)")
            out.append((label, nan_cost.package_dir(d), None))
    return out


def load(label, pkg, form):
    mod = nan_cost.load(label, pkg)
    if form is not None and not set_form(mod, form):
        raise SystemExit(f"fwd_vs_old: {pkg} has no ssd_fused_dispatch attributes to set as {form!r} "
                         "(NAME:VALUE,...): run it on a library with REWALK and MASK")
    return mod


def warm(label, pkg, form, shape_labels, small):
    """Compile the forward's kernels for these shapes (fills Triton's cache; a subprocess)."""
    import torch

    mod = load(label, pkg, form)
    for s in nan_cost.SHAPES["small" if small else "targets"]:
        if s[0] in shape_labels:
            torch.manual_seed(0)
            inp, seq = nan_cost.make_inputs(s, "cuda" if torch.cuda.is_available() else "cpu", small)
            nan_cost.calls(mod, inp, seq, 64 if small else nan_cost.CHUNK)[0]()
    if torch.cuda.is_available():
        torch.cuda.synchronize()


def reference(shape, inp, seq, small):
    """(float64 reference on the check slice, (rows, heads) index tensors)."""
    import torch

    from mamba2_runner.bench.checks import check_slices
    from mamba2_runner.bench.configs import SsdConfig
    from mamba2_runner.reference import ref_scan

    label, b, l, h, g, _ = shape
    p, n = nan_cost.SMALL_DIMS if small else (nan_cost.HEADDIM, nan_cost.DSTATE)
    rows, heads, groups = check_slices(SsdConfig(label, b, l, h, p, n, g))
    dev = inp["x"].device
    ri, hi, gi = (torch.tensor(v, device=dev) for v in (rows, heads, groups))

    def sl(t, dim, idx):
        return t.index_select(dim, idx)

    ref = ref_scan(sl(sl(inp["x"], 0, ri), 2, hi), sl(sl(inp["dt"], 0, ri), 2, hi), sl(inp["A"], 0, hi),
                   sl(sl(inp["B"], 0, ri), 2, gi), sl(sl(inp["C"], 0, ri), 2, gi), D=sl(inp["D"], 0, hi),
                   dt_bias=sl(inp["dt_bias"], 0, hi), seq_idx=None if seq is None else sl(seq, 0, ri),
                   dt_softplus=True)
    return ref, (ri, hi)


def auto_pick(mod, shape, device, small):
    """The form REWALK="auto" takes at this shape (the walk launch's program count, as ssd_fused_fwd makes it)."""
    import torch

    disp = importlib.import_module(mod.__name__ + ".kernels.ssd_fused_dispatch")
    _, b, l, h, _, _ = shape
    p = nan_cost.SMALL_DIMS[0] if small else nan_cost.HEADDIM
    n_p, chunks = -(-p // min(64, p)), -(-l // 32)
    nseg = disp.pick_split(b * h * n_p, chunks, torch.device(device))
    nseg = -(-chunks // -(-chunks // nseg))
    saved, disp.REWALK = disp.REWALK, "auto"
    try:
        return disp.rewalk_form(n_p * b * h * nseg, torch.device(device))
    finally:
        disp.REWALK = saved


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--current", default=nan_cost.CURRENT, help="the current library (main and cand)")
    ap.add_argument("--old", default=None, help="the old package (.old-pkgs/kernels-out/mamba2_simple)")
    ap.add_argument("--pre", default=None, help="the .pre-nan library (optional)")
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--shapes", choices=sorted(nan_cost.SHAPES), default="targets")
    ap.add_argument("--out", default=None, help="write the results here as JSON (a file, or a folder)")
    ap.add_argument("--warm", default=None, help=argparse.SUPPRESS)  # LABEL=DIR=FORM=SHAPE;SHAPE (subprocess)
    args = ap.parse_args()
    small = args.shapes == "small"
    shapes = nan_cost.SHAPES[args.shapes]

    if args.warm:
        label, pkg, form, sh = args.warm.split("=", 3)
        warm(label, pkg, form or None, set(sh.split(";")), small)
        return

    import torch

    device = "cuda" if torch.cuda.is_available() else "cpu"
    builds = builds_from(args)
    t0 = time.time()
    if device == "cuda":  # compile in parallel: one process per (build, distinct walk build)
        # old / pre: one walk build per path (the unsplit shapes share it); the current library's REWALK "auto"
        # picks the inlined re-walk at (8, 2048, 64) and g8, the call elsewhere: every shape is its own build
        firsts = [s[0] for s in shapes if s[0] in ("4,4096,80", "1,16384,80", "4,4096,80 seq_idx")] or [shapes[0][0]]
        procs = [(lbl, subprocess.Popen([sys.executable, __file__, "--shapes", args.shapes,
                                         "--warm", f"{lbl}={pkg}={form or ''}={sh}"]))
                 for lbl, pkg, form in builds for sh in (firsts if form is None else [s[0] for s in shapes])]
        for lbl, pr in procs:
            if pr.wait() != 0:
                print(f"fwd_vs_old: warming {lbl} failed (exit {pr.returncode}); its first call compiles")
    print(f"compiled in {time.time() - t0:.1f} s", flush=True)
    mods = {lbl: load(lbl, pkg, form) for lbl, pkg, form in builds}

    from triton.testing import do_bench

    from mamba2_runner.checks import rel_err

    res = {"device": torch.cuda.get_device_name() if device == "cuda" else "cpu",
           "builds": {lbl: [pkg, form] for lbl, pkg, form in builds}, "tol": TOL, "shapes": {}}
    rounds = 1 if small else args.rounds
    for s in shapes:
        torch.manual_seed(0)
        inp, seq = nan_cost.make_inputs(s, device, small)
        fns = {lbl: nan_cost.calls(m, inp, seq, 64 if small else nan_cost.CHUNK)[0] for lbl, m in mods.items()}
        ref, (ri, hi) = reference(s, inp, seq, small)
        row = {}
        for lbl, fn in fns.items():
            out = fn()
            out = (out[0] if isinstance(out, tuple) else out).index_select(0, ri).index_select(2, hi)
            err = rel_err(out, ref)  # NaN when out is not finite
            row[lbl] = {"rel_err_vs_f64": err, "ok": err <= TOL, "fwd": []}
            if not row[lbl]["ok"]:
                print(f"{s[0]}: {lbl} fails the float64 check (rel err {err:.2e} > {TOL}): not timed", flush=True)
        labels = [lbl for lbl in fns if row[lbl]["ok"]]
        for r in range(rounds if labels else 0):
            for lbl in labels[r % len(labels):] + labels[:r % len(labels)]:  # the order rotated each round
                if small:
                    t = time.perf_counter()
                    fns[lbl]()
                    row[lbl]["fwd"].append((time.perf_counter() - t) * 1e3)
                else:
                    row[lbl]["fwd"].append(do_bench(fns[lbl], warmup=10, rep=40))
        for v in row.values():
            f = sorted(v["fwd"])
            v["fwd_ms"] = f[len(f) // 2] if f else None
        res["shapes"][s[0]] = row
        print(f"{s[0]}: " + ", ".join(f"{lbl} {v['fwd_ms'] or float('nan'):.3f} ms (err {v['rel_err_vs_f64']:.1e})"
                                      for lbl, v in row.items()), flush=True)
        del inp, fns
    res["seconds"] = time.time() - t0
    res["auto"] = {s[0]: auto_pick(mods["cand"], s, device, small) for s in shapes}

    if args.out:
        path = os.path.join(args.out, "fwd_vs_old.json") if os.path.isdir(args.out) else args.out
        with open(path, "w") as f:
            json.dump(res, f, indent=1)
        print(f"wrote {path}")

    labels = [lbl for lbl, _, _ in builds]
    base = "old" if "old" in labels else "main"
    print(f"\nforward, median of {rounds} round medians (ms), and build/{base} (> 1: slower than {base}); {res['device']}")
    head = "| shape | " + " | ".join(labels) + " | " + " | ".join(f"{lbl}/{base}" for lbl in labels if lbl != base) \
        + " | cand/main | auto picks |"
    print(head)
    print("|" + "---|" * (head.count("|") - 1))

    def ms(v):
        return f"{v:.3f}" if v is not None else "-"

    def ratio(a, b):
        return f"{a / b:.3f}" if a is not None and b else "-"

    for shape, row in res["shapes"].items():
        cells = [shape] + [ms(row[lbl]["fwd_ms"]) for lbl in labels]
        cells += [ratio(row[lbl]["fwd_ms"], row[base]["fwd_ms"]) for lbl in labels if lbl != base]
        cells += [ratio(row["cand"]["fwd_ms"], row["main"]["fwd_ms"]), res["auto"].get(shape, "-")]
        print("| " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
