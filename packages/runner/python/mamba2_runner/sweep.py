"""Tuning sweeps of the fused SSD scan: run a plan, append one JSON line per config.

    python -m mamba2_runner.sweep run --plan plan.json --out results.jsonl [--resume]
        [--budget-s 540] [--timeout-s 60] [--gpus 0,1,2,3 | --gpus auto] [--events-fd 3]
    torchrun --nproc-per-node N -m mamba2_runner.sweep run --plan ... --out ... [--resume]
        (one shard per rank; rank 0 merges into --out: see mamba2_runner/sweep_dist.py)
    python -m mamba2_runner.sweep summary results.jsonl

This is the one sweep supervisor: `pnpm bench --sweep` (packages/runner/src/cli/sweep.ts)
only writes the plan, starts this and draws its progress, so a GPU box without
Node runs exactly what a laptop with Node runs.

The plan (packages/runner/src/sweep/plan.ts) lists generated packages (one
per headdim, paths relative to the plan file) and configs: {id, package,
problem, shape, params}. For every config not yet in the results file this
checks the kernel against the float64 reference on a slice of the problem (a
wrong config is recorded and never timed), then times it with
triton.testing.do_bench (median) and appends one line, fsync'ed at once.

Crash safety (mamba2_runner/sweep_supervisor.py): configs run in worker
processes, one per GPU, fed from one queue; a hang is recorded as "timeout",
a dead worker's config is retried once on a fresh worker (another GPU's when
there is one), and killing `run` loses only what was in flight: rerun with
--resume. The results file is locked (a second sweep on it is refused), a
corrupt line is quarantined to `<out>.corrupt` without losing the records
around it, and a sweep never mixes results of two kernel shas.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import signal
import subprocess
import sys
import time
import traceback
from pathlib import Path
from typing import Any, Callable, Optional

from .checks import passes
from .sweep_plan import Plan
from .sweep_provenance import (KERNEL_HEADERS, MixedKernelsError, check_one_kernel, commit_of, kernel_set_sha, kernel_sha,
                               provenance)
from .sweep_results import ResultsWriter, done_ids, finite as _finite, log, read_results, summary, utc_now
from .sweep_supervisor import run

__all__ = ["KERNEL_HEADERS", "MixedKernelsError", "Plan", "Runner", "ResultsWriter", "check_one_kernel", "classify",
           "commit_of", "done_ids", "kernel_set_sha", "kernel_sha", "main", "pick_tuned", "read_results", "run", "summary",
           "sweep_point"]

STATUSES = ("ok", "wrong", "compile_error", "out_of_resources", "oom", "timeout", "error")
EXIT_FATAL = 76  # a worker ended itself after an error that poisons the CUDA context


def default_tol(device: str, dtype: str) -> float:
    """verify's tolerance for the scan ("dot" ops), so a config passes here iff it would pass verify."""
    try:
        from .verify import TOLERANCES

        return float(TOLERANCES[(device, dtype)]["dot"])
    except Exception:  # verify absent or no entry for this dtype
        return {"bfloat16": 2e-2, "float16": 1e-2}.get(dtype, 2e-3 if device == "cuda" else 1e-4)


# --------------------------------------------------------------------------- plan


# --------------------------------------------------------------------------- measuring


def classify(exc: BaseException) -> tuple[str, str]:
    """(status, reason) of a failed config."""
    import torch

    name = type(exc).__name__
    try:
        msg = str(exc).strip().splitlines()
    except Exception:  # an exception whose __str__ fails still gets recorded
        msg = []
    first = msg[0] if msg else name
    try:
        from triton.compiler.errors import CompilationError
        from triton.runtime.errors import OutOfResources
    except Exception:  # pragma: no cover - triton always present here
        CompilationError = OutOfResources = ()  # type: ignore[assignment]
    if isinstance(exc, OutOfResources) or "out of resource" in first.lower():
        return "out_of_resources", f"{name}: {first}"[:500]
    if isinstance(exc, torch.cuda.OutOfMemoryError) or "out of memory" in first.lower():
        return "oom", f"{name}: {first}"[:500]
    if isinstance(exc, CompilationError) or name in ("PTXASError", "CompilationError"):
        # the message is a source excerpt then the error: keep the error
        detail = getattr(exc, "error_message", None) or (msg[-1] if msg else "")
        where = f" (line {exc.node.lineno})" if hasattr(getattr(exc, "node", None), "lineno") else ""
        return "compile_error", f"{name}{where}: {detail}"[:500]
    return "error", f"{name}: {first}"[:500]


def is_fatal(exc: BaseException) -> bool:
    """A CUDA error that leaves the context unusable: the process must restart."""
    s = str(exc).lower()
    return "illegal memory access" in s or "cuda error" in s or "device-side assert" in s


class Runner:
    """Keeps what configs of one plan share: loaded packages, inputs, references, baselines."""

    def __init__(self, plan: Plan, device: Optional[str] = None):
        from .pkgload import select_device

        self.plan = plan
        self.device = device or select_device()
        self.dtype_name = plan.opt("dtype", "bfloat16")
        self.tol = float(plan.opt("tol", default_tol(self.device, self.dtype_name)))
        self._pkgs: dict[str, Any] = {}
        self._inputs_key: Optional[tuple] = None
        self._inputs: Optional[dict] = None
        self._ref: Optional[Any] = None
        self.baselines: dict[str, float] = {}
        self.noise: dict[str, float] = {}

    # -- packages and inputs

    def package(self, key: str) -> dict:
        """{"fwd": ssd_fused_fwd, "chunk_size": default} of the package for `key`.

        The packages of one sweep usually share a Python name (one per
        headdim), and loading one drops the other from sys.modules, so what a
        config needs is taken out right after the import and kept here."""
        if key not in self._pkgs:
            import importlib

            from .pkgload import load_generated

            pkg = load_generated(self.plan.package_dir(key))
            fused = importlib.import_module(pkg.__name__ + ".kernels.ssd_fused")
            cfg = importlib.import_module(pkg.__name__ + "._config")
            self._pkgs[key] = {"fwd": fused.ssd_fused_fwd, "chunk_size": int(cfg.CHUNK_SIZE), "name": pkg.__name__,
                               "kernel_sha": kernel_set_sha(Path(fused.__file__).parents[1], "kernels/ssd_fused.py")}
        return self._pkgs[key]

    def inputs(self, shape: dict, seed_key: str) -> dict:
        """Fresh random inputs for one (package, problem); reused by its configs."""
        import torch

        key = (seed_key, json.dumps(shape, sort_keys=True))
        if self._inputs_key == key and self._inputs is not None:
            return self._inputs
        self._inputs = self._ref = None
        if self.device == "cuda":
            torch.cuda.empty_cache()
        b, l, h, p = shape["batch"], shape["seqlen"], shape["nheads"], shape["headdim"]
        g, n = shape.get("ngroups", 1), shape["d_state"]
        dt_ = getattr(torch, self.dtype_name)
        dev = self.device
        # drawn on the device: a (4, 4096, 160, 32) tensor takes seconds on the CPU
        gen = torch.Generator(device=dev).manual_seed(int.from_bytes(os.urandom(4), "little"))

        def rnd(*size, scale=1.0, dtype=dt_):
            return (torch.randn(*size, generator=gen, device=dev) * scale).to(dtype=dtype)

        def uni(*size):
            return torch.rand(*size, generator=gen, device=dev)

        self._inputs = {
            "x": rnd(b, l, h, p),
            "dt": rnd(b, l, h, scale=0.5, dtype=torch.float32),
            "A": -torch.exp(uni(h) * math.log(16.0)),
            "B": rnd(b, l, g, n, scale=n ** -0.5),
            "C": rnd(b, l, g, n, scale=n ** -0.5),
            "D": rnd(h, dtype=torch.float32),
            "dt_bias": uni(h) - 2.0,
        }
        if self.plan.opt("with_z", False):
            self._inputs["z"] = rnd(b, l, h, p)
        self._inputs_key = key
        return self._inputs

    def check_slice(self, shape: dict) -> tuple[int, int, int, int]:
        """(batch, seqlen, heads, groups) of the prefix checked against the reference.

        The scan is causal and heads are independent, so a prefix in time and a
        whole number of groups' heads is checked exactly."""
        h, g = shape["nheads"], shape.get("ngroups", 1)
        hpg = h // g
        want_h = int(self.plan.opt("check_heads", 8))
        hc = min(h, want_h) if g == 1 else max(hpg, (min(h, want_h) // hpg) * hpg)
        gc = 1 if g == 1 else hc // hpg
        # several chunks even at chunk 256, so the state passed between chunks is checked too
        lc = min(shape["seqlen"], int(self.plan.opt("check_seqlen", 1024)))
        return 1, lc, hc, gc

    def reference(self, shape: dict):
        if self._ref is None:
            from .reference.scan import ref_scan

            i = self._inputs
            assert i is not None
            bc, lc, hc, gc = self.check_slice(shape)
            sl = lambda t: t[:bc, :lc].double()  # noqa: E731
            self._ref = ref_scan(
                sl(i["x"])[:, :, :hc], sl(i["dt"])[:, :, :hc], i["A"][:hc].double(),
                sl(i["B"])[:, :, :gc], sl(i["C"])[:, :, :gc],
                D=i["D"][:hc].double(), z=None if "z" not in i else sl(i["z"])[:, :, :hc],
                dt_bias=i["dt_bias"][:hc].double(), dt_softplus=True,
            )
            if isinstance(self._ref, tuple):
                self._ref = self._ref[0]
        return self._ref

    # -- one call of the kernel

    def call(self, key: str, shape: dict, params: Optional[dict]) -> Callable[[], Any]:
        pkg = self.package(key)
        fwd = pkg["fwd"]
        i = self.inputs(shape, key)
        if params is None:  # the package's defaults
            chunk, tiles = pkg["chunk_size"], {}
        else:
            chunk = params["chunk_size"]
            tiles = {k: params[k] for k in ("block_p", "num_warps", "num_stages") if params.get(k) is not None}
            # the fused walk's tile is LAUNCH.fused.block_q unless told otherwise: a
            # swept chunk size is the tile it names
            tiles["block_q"] = chunk
        kw = dict(D=i["D"], dt_bias=i["dt_bias"], dt_softplus=True, **tiles)
        if "z" in i:
            kw["z"] = i["z"]

        def fn():
            return fwd(i["x"], i["dt"], i["A"], i["B"], i["C"], chunk, **kw)

        return fn

    def rel_err(self, out: Any, shape: dict) -> float:
        """mamba2_runner.checks.rel_err on the checked slice (NaN when the output is not finite)."""
        from .checks import rel_err

        if isinstance(out, tuple):
            out = out[0]
        bc, lc, hc, _ = self.check_slice(shape)
        return rel_err(out[:bc, :lc, :hc], self.reference(shape))

    def time_ms(self, fn: Callable[[], Any]) -> float:
        if self.device == "cuda" and self.plan.opt("timer", "do_bench") == "do_bench":
            import triton.testing

            return float(
                triton.testing.do_bench(
                    fn, warmup=int(self.plan.opt("warmup_ms", 25)), rep=int(self.plan.opt("rep_ms", 100)),
                    return_mode="median",
                )
            )
        # CPU (Triton's interpreter): a few wall-clock runs are enough for tests
        times = []
        for _ in range(int(self.plan.opt("wall_reps", 1))):
            t0 = time.perf_counter()
            fn()
            times.append((time.perf_counter() - t0) * 1e3)
        times.sort()
        return times[len(times) // 2]

    def sync(self) -> None:
        if self.device == "cuda":
            import torch

            torch.cuda.synchronize()

    def baseline(self, cfg: dict) -> Optional[float]:
        """The model's own package with its default config, once per problem."""
        problem = cfg["problem"]
        if problem in self.baselines:
            return self.baselines[problem]
        base = self.plan.data.get("baselines", {}).get(problem)
        if base is None:
            return None
        try:
            fn = self.call(base["package"], base["shape"], None)
            fn()
            self.sync()
            # three timings: their median is the default's time, their spread the run's noise
            # (gen --tuned takes a config only where it beat the default by more than that)
            runs = sorted(self.time_ms(fn) for _ in range(3))
            ms = runs[1]
            self.noise[problem] = (runs[-1] - runs[0]) / ms if ms > 0 else math.nan
        except Exception as exc:  # a broken default is reported, not fatal
            log(f"baseline for {problem} failed: {classify(exc)[1]}")
            ms = math.nan
        self.baselines[problem] = ms
        return ms

    # -- one config

    def point(self, cfg: dict) -> dict:
        """Check then time one config; returns its record (never raises, except fatal)."""
        t0 = time.time()
        rec: dict[str, Any] = {
            "type": "config", "id": cfg["id"], "package": cfg["package"], "problem": cfg["problem"], "shape": cfg["shape"],
            "params": cfg["params"], "device": self.device, "dtype": self.dtype_name,
            "status": "error", "reason": None, "ms": None, "rel_err": None,
            "baseline_ms": None, "default_ms": None, "noise": None, "speedup": None,
        }
        try:
            if cfg["params"].get("sleep_s"):  # tests: a config that hangs
                time.sleep(float(cfg["params"]["sleep_s"]))
            if cfg["params"].get("crash"):  # tests: a config that kills the process
                os.kill(os.getpid(), signal.SIGKILL)
            base = self.baseline(cfg)
            rec["baseline_ms"] = rec["default_ms"] = _finite(base)
            rec["noise"] = _finite(self.noise.get(cfg["problem"]))
            fn = self.call(cfg["package"], cfg["shape"], cfg["params"])
            out = fn()
            self.sync()
            err = self.rel_err(out, cfg["shape"])
            rec["rel_err"] = _finite(err)
            if not passes(err, self.tol):  # NaN never passes
                rec["status"] = "wrong"
                rec["reason"] = f"rel err {err:.3g} > tol {self.tol:g} against the float64 reference"
            else:
                ms = self.time_ms(fn)
                rec["status"], rec["ms"] = "ok", ms
                if base and math.isfinite(base) and ms > 0:
                    rec["speedup"] = base / ms
        except Exception as exc:
            rec["status"], rec["reason"] = classify(exc)
            rec["traceback"] = traceback.format_exc()[-2000:]
            if is_fatal(exc):
                rec["fatal"] = True
        # `ok` and `name` let codegen's `gen --tuned` reader skip failures and other packages
        rec["ok"] = rec["status"] == "ok"
        rec["name"] = self._pkgs.get(cfg["package"], {}).get("name")
        # which fused-scan code was measured: `gen --tuned` refuses rows of another
        rec["kernel_sha"] = self._pkgs.get(cfg["package"], {}).get("kernel_sha")
        rec["elapsed_s"] = round(time.time() - t0, 3)
        rec["t"] = utc_now()
        return rec


# --------------------------------------------------------------------------- tuned dispatch


def pick_tuned(tuned: list[dict], nheads: int, seqlen: int) -> Optional[dict]:
    """The lookup rule generated packages use for `_config.TUNED` (reference implementation).

    Rows are {"nheads", "max_seqlen", "chunk_size", "block_p", "num_warps", "num_stages"}:
    the first row with this nheads whose max_seqlen >= seqlen (smallest bucket
    that covers it), else that nheads' largest bucket, else None (use _config's
    defaults). Arguments passed explicitly to ssd_fused_fwd win over the row."""
    rows = sorted((r for r in tuned if r["nheads"] == nheads), key=lambda r: r["max_seqlen"])
    for r in rows:
        if seqlen <= r["max_seqlen"]:
            return r
    return rows[-1] if rows else None


# --------------------------------------------------------------------------- worker op

_RUNNERS: dict[str, Runner] = {}


def sweep_point(args: dict) -> dict:
    """Worker op: run config `args["id"]` of the plan file `args["plan"]` in this process and
    return its record, writing nothing (a one-off check of a config; sweeps use `run`)."""
    plan_path = str(Path(args["plan"]).resolve())
    runner = _RUNNERS.get(plan_path)
    if runner is None:
        runner = _RUNNERS[plan_path] = Runner(Plan.load(plan_path))
    return runner.point(runner.plan.config(args["id"]))


def op_sweep_point(args: dict, emit: Callable[[dict], None]) -> dict:
    """The worker registry's entry (mamba2_runner/worker.py OPS["sweep_point"])."""
    emit({"id": args.get("id"), "phase": "start"})
    return sweep_point(args)




# --------------------------------------------------------------------------- supervisor


def detect_gpus() -> list[str]:
    """--gpus auto: CUDA_VISIBLE_DEVICES entries, else nvidia-smi's indices, else torch's device count."""
    visible = os.environ.get("CUDA_VISIBLE_DEVICES", "").strip()
    if visible:
        return [s.strip() for s in visible.split(",") if s.strip() not in ("", "-1")]
    try:
        p = subprocess.run(["nvidia-smi", "--query-gpu=index", "--format=csv,noheader"], capture_output=True,
                           text=True, timeout=30)
        ids = [s.strip() for s in p.stdout.splitlines() if s.strip().isdigit()]
        if ids:
            return ids
    except (OSError, subprocess.SubprocessError):
        pass
    try:
        import torch

        return [str(i) for i in range(torch.cuda.device_count())] if torch.cuda.is_available() else []
    except Exception:
        return []


def parse_gpus(text: str) -> list[str]:
    ids = [s.strip() for s in text.split(",")]
    if not ids or any(s == "" for s in ids):
        raise ValueError(f"--gpus {text!r} has an empty entry. Pass e.g. --gpus 0,1,2,3 or --gpus auto.")
    dup = next((s for i, s in enumerate(ids) if s in ids[:i]), None)
    if dup is not None:
        raise ValueError(f"--gpus lists {dup} twice: one worker per GPU. Pass each GPU once.")
    return ids


def _child(plan_path: str) -> int:
    from .sweep_supervisor import child_main

    return child_main(plan_path, lambda: Runner(Plan.load(plan_path)), provenance)


# --------------------------------------------------------------------------- command line


class _Parser(argparse.ArgumentParser):
    """Errors as one line (what is wrong and the fix), exit 2."""

    def error(self, message: str) -> "NoReturn":  # type: ignore[name-defined]  # noqa: F821
        self.exit(2, f"{self.prog}: {message}\n")


def _seconds(flag: str) -> Callable[[str], float]:
    def parse(text: str) -> float:
        try:
            v = float(text)
        except ValueError:
            v = math.nan
        if not (math.isfinite(v) and v > 0):
            raise argparse.ArgumentTypeError(
                f"{flag} {text!r} is not a positive number of seconds. Pass e.g. {flag} 120.")
        return v

    return parse


def _fd(text: str) -> int:
    if not text.isdigit():
        raise argparse.ArgumentTypeError(f"--events-fd {text!r} is not a file descriptor number. Pass e.g. --events-fd 3.")
    return int(text)


def main(argv: Optional[list[str]] = None) -> int:
    ap = _Parser(prog="python -m mamba2_runner.sweep", description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True, parser_class=_Parser)
    r = sub.add_parser("run", help="run every config of a plan not yet in the results file")
    r.add_argument("--plan", required=True)
    r.add_argument("--out", required=True)
    r.add_argument("--resume", action="store_true", help="skip configs already recorded in --out")
    r.add_argument("--budget-s", type=_seconds("--budget-s"), default=None, help="stop starting configs after this long")
    r.add_argument("--timeout-s", type=_seconds("--timeout-s"), default=None,
                   help="per-config watchdog (default: the plan's timeout_s, else 120)")
    r.add_argument("--gpus", default=None, help="one worker per GPU from one queue: 0,1,2,3 or auto")
    r.add_argument("--events-fd", type=_fd, default=None, help="write progress events as JSON lines to this fd")
    sm = sub.add_parser("summary", help="print the best config per problem of a results file")
    sm.add_argument("results")
    c = sub.add_parser("_child")
    c.add_argument("--plan", required=True)
    a = ap.parse_args(argv)
    if a.cmd == "summary":
        print(summary(read_results(Path(a.results)).records))
        return 0
    if a.cmd == "_child":
        return _child(a.plan)
    gpus: Optional[list[str]] = None
    if a.gpus is not None:
        try:
            gpus = detect_gpus() if a.gpus == "auto" else parse_gpus(a.gpus)
        except ValueError as exc:
            ap.exit(2, f"{ap.prog}: {exc}\n")
        if a.gpus == "auto" and len(gpus) <= 1:
            log(f"sweep: --gpus auto found {'no GPU' if not gpus else f'one GPU ({gpus[0]})'}: one worker, as without --gpus")
            gpus = None
    timeout = a.timeout_s
    if timeout is None:
        try:
            timeout = float(Plan.load(a.plan).opt("timeout_s", 120))
        except (OSError, ValueError) as exc:
            ap.exit(2, f"{ap.prog}: cannot read the plan {a.plan}: {exc}\n")
    events = None
    if a.events_fd is not None:
        fh = os.fdopen(a.events_fd, "w", buffering=1)
        events = lambda e: fh.write(json.dumps(e, default=str) + "\n")  # noqa: E731
    if under_torchrun():
        if gpus:
            ap.exit(2, f"{ap.prog}: --gpus does not go with torchrun: each rank is one GPU. Drop --gpus.\n")
        from .sweep_dist import run_distributed

        return run_distributed(a.plan, a.out, a.resume, a.budget_s, timeout)
    try:
        return run(a.plan, a.out, a.resume, a.budget_s, timeout, gpus=gpus, on_event=events)
    except KeyboardInterrupt:
        log("sweep: interrupted; what is recorded stays: rerun with --resume")
        return 130


def under_torchrun(env: Optional[dict] = None) -> bool:
    """True when started by torchrun (it sets RANK, WORLD_SIZE and LOCAL_RANK for every process)."""
    env = os.environ if env is None else env
    return all(k in env for k in ("RANK", "WORLD_SIZE", "LOCAL_RANK"))


if __name__ == "__main__":
    sys.exit(main())
