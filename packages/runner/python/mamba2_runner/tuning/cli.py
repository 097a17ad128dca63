"""Command line of mamba2_runner.tuning (see __init__.py)."""
from __future__ import annotations

import argparse
import importlib
import json
import os
from pathlib import Path
from typing import Optional

from ..sweep_results import read_results

MODULES = {"kernels": "mamba2_runner.tuning.kernels", "model": "mamba2_runner.tuning.model"}


def _opts(a: argparse.Namespace, which: str) -> dict:
    o = {"smoke": a.smoke, "dtype": "float32" if a.smoke else "bfloat16", "warmup_ms": a.warmup_ms, "rep_ms": a.rep_ms,
         "incumbent": not a.no_incumbent}
    if a.smoke:
        o.update(check_seqlen=64, check_heads=2)
    if which == "model":
        o.update(batch=a.batch, seqlen=a.seqlen, check_seqlen=64 if a.smoke else 256)
        if a.smoke:
            o.update(batch=1, seqlen=64)
    return o


def _common(s: argparse.ArgumentParser) -> None:
    s.add_argument("--smoke", action="store_true", help="a tiny grid for CPU (TRITON_INTERPRET=1)")
    s.add_argument("--budget-s", type=float, default=120.0, help="checks stop at 60%% of it, timings at all of it")
    s.add_argument("--workers", type=int, default=max(1, min(15, (os.cpu_count() or 2) - 1)),
                   help="check processes (compiles run there in parallel)")
    s.add_argument("--warmup-ms", type=int, default=5)
    s.add_argument("--rep-ms", type=int, default=25)
    s.add_argument("--resume", action="store_true")
    s.add_argument("--no-incumbent", action="store_true")
    s.add_argument("--batch", type=int, default=8, help="model sweep: batch")
    s.add_argument("--seqlen", type=int, default=2048, help="model sweep: seqlen")


def main(argv: Optional[list[str]] = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m mamba2_runner.tuning")
    sub = ap.add_subparsers(dest="cmd", required=True)
    for name in ("kernels", "model"):
        s = sub.add_parser(name, help=f"the {name} sweep into --out")
        s.add_argument("--out", required=True)
        _common(s)
    s = sub.add_parser("all", help="both sweeps, checked in one pool: DIR/kernels.jsonl, DIR/model.jsonl")
    s.add_argument("--out-dir", required=True)
    _common(s)
    t = sub.add_parser("tuned", help="the tuned and the default packages side by side")
    t.add_argument("--default", required=True, help="folder of the default packages (bench/pkgs)")
    t.add_argument("--tuned", required=True, help="folder of the tuned packages (bench/pkgs-tuned)")
    t.add_argument("--sweep", required=True, help="the kernel sweep's results: its fwd shapes are measured")
    t.add_argument("--out", required=True)
    t.add_argument("--repeats", type=int, default=5)
    t.add_argument("--rep-ms", type=int, default=25)
    sm = sub.add_parser("summary")
    sm.add_argument("files", nargs="+")
    c = sub.add_parser("_check")
    for k in ("--configs", "--ids", "--out"):
        c.add_argument(k, required=True)
    a = ap.parse_args(argv)
    if a.cmd == "_check":
        from .engine import child_main

        return child_main(a.configs, json.loads(Path(a.ids).read_text()), a.out)
    from .summary import summary

    if a.cmd == "summary":
        for f in a.files:
            print(summary(read_results(Path(f)).records, f))
        return 0
    if a.cmd == "tuned":
        from .tuned_bench import run_tuned

        return run_tuned(a.default, a.tuned, a.sweep, a.out, repeats=a.repeats, rep_ms=a.rep_ms)
    from .engine import Job, run_many

    which = ["kernels", "model"] if a.cmd == "all" else [a.cmd]
    outs = {w: (Path(a.out_dir) / f"{w}.jsonl" if a.cmd == "all" else Path(a.out)) for w in which}
    jobs = []
    for w in which:
        opts = _opts(a, w)
        jobs.append(Job(MODULES[w], importlib.import_module(MODULES[w]).configs(opts), opts, outs[w]))
    rc = run_many(jobs, workers=a.workers, budget_s=a.budget_s, resume=a.resume)
    for w in which:
        if outs[w].exists():
            print(summary(read_results(outs[w]).records, str(outs[w])))
    return rc
