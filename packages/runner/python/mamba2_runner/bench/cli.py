"""`python -m mamba2_runner.bench`: flags, the loop over configs, the worker op.
(The package docstring, mamba2_runner/bench/__init__.py, describes the flags.)"""
from __future__ import annotations

import argparse
import os
import sys
import time
from typing import Callable, Dict, List, Optional

from ..pkgload import select_device
from . import configs as bc
from . import timing
from .baseline import BASELINE_DIR
from .checks import GRAD_CHECK_MAX_L, TOL_BLOCK, TOL_GRAD_BLOCK, TOL_GRAD_SSD, TOL_SSD
from .configs import SsdConfig
from .providers import SSD_PROVIDERS, Ctx, expand_providers, resolve_path
from .report import default_out, env_info, failures, format_table, json_safe, summary, write_json
from .rows import add_ratios, block_providers, grad_tol, run_block_config, run_ssd_config, run_ssd_fb_config

Progress = Callable[[dict], None]


def _log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def build_parser() -> argparse.ArgumentParser:
    from . import __doc__ as pkg_doc

    ap = argparse.ArgumentParser(prog="python -m mamba2_runner.bench", description=(pkg_doc or "").split("\n\n")[0])
    ap.add_argument("--pkg", default="kernels-out/mamba2_simple", help="generated package for the SSD configs")
    ap.add_argument("--configs", default="default", help="all | tiny | NAME,... (default: all on CUDA, tiny on CPU)")
    ap.add_argument("--mode", default="fwd", choices=bc.MODES,
                    help="fwd: forward only; fwdbwd: forward+backward (configs NAME-fb); both: fwd then fwdbwd")
    ap.add_argument("--grad-tol", type=float, default=None,
                    help=f"fwdbwd: one relative-error tolerance for every gradient "
                         f"(default {TOL_GRAD_SSD:g} SSD, {TOL_GRAD_BLOCK:g} block)")
    ap.add_argument("--providers", default=",".join(SSD_PROVIDERS + ("mamba_ssm_fused",)),
                    help="SSD rows: fused, chunked, torch, mamba_ssm; block rows: generated (runs when fused, "
                         "chunked or generated is asked for), mamba_ssm, mamba_ssm_fused. Each row takes the ones "
                         "it knows (default: all)")
    ap.add_argument("--block-pkgs", default="", help="D_MODEL=DIR,... (default kernels-out/bench_block_<D>, "
                                                     "then bench/pkgs/bench_block_<D>)")
    ap.add_argument("--compare-pkg", default="",
                    help="LABEL=DIR,...: also run our providers from another generated package, side by side, "
                         "as fused@LABEL, chunked@LABEL, generated@LABEL. DIR is a package (kernels-out/<name>) "
                         "or a folder holding packages by name (DIR/<name>, DIR/kernels-out/<name>, "
                         "DIR/bench/pkgs/<name>), looked up by the --pkg / block package's folder name")
    ap.add_argument("--chunk-size", type=int, default=None, help="chunk for fused/chunked/torch (default: package CHUNK_SIZE)")
    ap.add_argument("--baseline", default=str(BASELINE_DIR),
                    help="folder holding mamba_ssm/ (scripts/fetch-baseline.sh) and, for mamba_ssm_fused, "
                         "causal_conv1d_cuda.so + causal-conv1d/")
    ap.add_argument("--out", default=None, help="JSON path (default bench/results/<date>-<gpu>.json)")
    ap.add_argument("--check-only", action="store_true", help="correctness only, no timing")
    ap.add_argument("--warmup", type=int, default=25, help="do_bench warmup, ms")
    ap.add_argument("--rep", type=int, default=100, help="do_bench repetition, ms")
    ap.add_argument("--no-graph", action="store_true", help="skip CUDA-graph timing of the seed shape")
    ap.add_argument("--budget-s", type=float, default=480.0,
                    help="start no new config after this many seconds (0 = no limit); the rest are recorded as skipped")
    return ap


def _pairs(flag: str, text: str) -> Dict[str, str]:
    out: Dict[str, str] = {}
    for item in [s.strip() for s in text.split(",") if s.strip()]:
        k, _, v = item.partition("=")
        if not k or not v:
            raise SystemExit(f"{flag} expects KEY=DIR[,KEY=DIR...], got {item!r}")
        out[k] = v
    return out


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    args = build_parser().parse_args(argv)
    try:
        args.block_pkgs_map = {int(k): v for k, v in _pairs("--block-pkgs", args.block_pkgs).items()}
    except ValueError:
        raise SystemExit(f"--block-pkgs expects D_MODEL=DIR with an integer D_MODEL, got {args.block_pkgs!r}")
    args.compare_map = _pairs("--compare-pkg", args.compare_pkg)
    bad = [k for k in args.compare_map if "@" in k or "," in k or not k]
    if bad:
        raise SystemExit(f"--compare-pkg labels name providers as NAME@LABEL: {bad} may not contain '@' or ','")
    return args


def run(args: argparse.Namespace, emit: Optional[Progress] = None) -> dict:
    """Run the bench; `emit` receives progress dicts (the worker forwards them as events)."""
    emit = emit or (lambda d: _log(f"[bench] {d.get('stage')} {d.get('config', '')} {d.get('provider', '')}"))
    device = select_device()  # before any generated kernel is imported
    import torch

    # MAMBA2_BENCH_CPU_TIMING=1: let the tests drive the timing path on CPU with stub timers
    if device != "cuda" and not args.check_only and os.environ.get("MAMBA2_BENCH_CPU_TIMING") != "1":
        raise SystemExit("no CUDA device: timing needs a GPU. Use --check-only for the CPU correctness pass.")
    providers = [p.strip() for p in args.providers.split(",") if p.strip()]
    configs = bc.resolve(args.configs, tiny_default=device != "cuda", mode=args.mode)
    ctx = Ctx(args, device)
    info = env_info(device)
    out_path = resolve_path(args.out) if args.out else default_out(info)
    doc = {
        "meta": {
            **info,
            "argv": sys.argv[1:],
            "package": str(ctx.pkg_dir),
            "package_error": ctx.pkg_error,
            "package_chunk_size": ctx.pkg_chunk,
            "compare_packages": {k: str(v) for k, v in ctx.compare.items()},
            "chunk_size_override": args.chunk_size,
            "providers": providers,
            "check_only": args.check_only,
            "mode": args.mode,
            "do_bench": {"warmup_ms": args.warmup, "rep_ms": args.rep, "return_mode": "median"},
            "memory": "per provider: memory.peak_bytes = torch.cuda.max_memory_allocated over one call at the "
                      "full shape after reset_peak_memory_stats; memory.extra_bytes = that minus the memory "
                      "allocated just before the call",
            "budget_s": args.budget_s,
            "tolerance": {"ssd": TOL_SSD, "block": TOL_BLOCK,
                          "grad_ssd": grad_tol(ctx, TOL_GRAD_SSD), "grad_block": grad_tol(ctx, TOL_GRAD_BLOCK),
                          "grad_check": f"batch 1, seqlen min(L, {GRAD_CHECK_MAX_L})"},
            "baseline": None,
            "out": str(out_path),
        },
        "results": [],
    }
    t0 = time.time()
    for i, cfg in enumerate(configs):
        emit({"stage": "config", "config": cfg.name, "index": i, "total": len(configs)})
        torch.manual_seed(int.from_bytes(os.urandom(4), "little"))
        if args.budget_s and time.time() - t0 > args.budget_s:
            reason = f"time budget {args.budget_s:.0f} s spent before this config (--budget-s)"
            names = (expand_providers(providers, list(ctx.compare), SSD_PROVIDERS) if isinstance(cfg, SsdConfig)
                     else block_providers(providers, ctx))
            rec = {"config": cfg.to_json(), "floor": bc.config_floor(cfg),
                   "providers": {p: {"status": "skipped", "reason": reason} for p in names}}
        elif isinstance(cfg, SsdConfig) and cfg.mode == "fwdbwd":
            rec = run_ssd_fb_config(cfg, ctx, providers, emit)
        elif isinstance(cfg, SsdConfig):
            rec = run_ssd_config(cfg, ctx, providers, emit)
        else:
            rec = run_block_config(cfg, ctx, providers, emit)
        add_ratios(rec)
        doc["results"].append(rec)
        if ctx._baseline is not None:
            doc["meta"]["baseline"] = ctx._baseline["info"]
        doc["meta"]["elapsed_s"] = round(time.time() - t0, 1)
        write_json(out_path, doc)
        emit({"stage": "done", "config": cfg.name, "index": i, "total": len(configs),
              "providers": {p: {k: r.get(k) for k in ("status", "median_ms", "err")} for p, r in rec["providers"].items()}})
    if ctx.graph_jobs:
        emit({"stage": "graph", "jobs": len(ctx.graph_jobs)})
        for r, fn, inp in ctx.graph_jobs:
            try:
                with torch.no_grad():
                    r["graph_ms"] = timing.time_graph(fn, inp, args.rep)
            except Exception as e:
                r["graph_error"] = f"{type(e).__name__}: {e}"[:500]
        ctx.graph_jobs.clear()
        doc["meta"]["elapsed_s"] = round(time.time() - t0, 1)
        write_json(out_path, doc)
    return doc


def op_bench(args: dict, emit: Progress) -> dict:
    """Worker op `bench`: args are the CLI flags as JSON, e.g.
    {"configs": "all", "providers": "fused,mamba_ssm", "block_pkgs": {"1536": "kernels-out/bench_block_1536"},
     "compare_pkg": {"old": "DIR"}, "check_only": false, "out": "bench/results/x.json"}.
    Progress events: {"stage": "config"|"check"|"time"|"done"|"graph", ...}."""
    argv: List[str] = []
    for key, val in (args or {}).items():
        flag = "--" + key.replace("_", "-")
        if key in ("block_pkgs", "compare_pkg") and isinstance(val, dict):
            val = ",".join(f"{k}={v}" for k, v in val.items())
        if isinstance(val, (list, tuple)):
            val = ",".join(str(v) for v in val)
        if val is True:
            argv.append(flag)
        elif val is False or val is None:
            continue
        else:
            argv += [flag, str(val)]
    doc = run(parse_args(argv), emit)
    return json_safe({"out": doc["meta"]["out"], "table": format_table(doc), "failed": failures(doc),
                      "rows": summary(doc),
                      "meta": {k: doc["meta"].get(k) for k in ("gpu", "torch", "triton", "commit", "date", "elapsed_s")}})


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    doc = run(args)
    print(format_table(doc))
    print(f"wrote {doc['meta']['out']}")
    bad = failures(doc)
    if bad:
        print("FAILED: " + "; ".join(bad))
    return 1 if bad else 0
