"""Tuning sweeps of the fused SSD scan: run a plan, append one JSON line per config.

    python -m mamba2_runner.sweep run --plan plan.json --out results.jsonl [--resume]
        [--budget-s 540] [--timeout-s 60]
    torchrun --nproc-per-node N -m mamba2_runner.sweep run --plan ... --out ... [--resume]
        (one shard per rank; rank 0 merges into --out: see mamba2_runner/sweep_dist.py)

The plan (written by `pnpm bench --sweep`, see packages/runner/src/sweep/plan.ts)
lists generated packages (one per headdim, paths relative to the plan file)
and configs: {id, package, problem, shape, params}. For every config not yet
in the results file this checks the kernel against the float64 reference on a
slice of the problem (a wrong config is recorded and never timed), then times
it with triton.testing.do_bench (median) and appends one line, fsync'ed at once.

Crash safety: `run` is a small supervisor. The configs run in a child process;
before each config the child writes `<out>.inflight`. A per-config watchdog
thread records a "timeout" line and ends the child; if the child dies any other
way (segfault, CUDA context lost) the parent records an "error" line for the
in-flight config. Either way the parent starts a fresh child that resumes, so a
bad config costs one restart, never the sweep. A killed `run` loses nothing
already written: rerun with --resume.

The worker op `sweep_point(args)` runs one config in the worker's process and
returns the record instead of writing it (the TS side appends it).
"""
from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import signal
import subprocess
import sys
import threading
import time
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Optional

STATUSES = ("ok", "wrong", "compile_error", "out_of_resources", "oom", "timeout", "error")
EXIT_TIMEOUT = 75  # child ended itself after recording a timeout
EXIT_FATAL = 76  # child ended itself after an error that poisons the CUDA context


def default_tol(device: str, dtype: str) -> float:
    """verify's tolerance for the scan ("dot" ops), so a config passes here iff it would pass verify."""
    try:
        from .verify import TOLERANCES

        return float(TOLERANCES[(device, dtype)]["dot"])
    except Exception:  # verify absent or no entry for this dtype
        return {"bfloat16": 2e-2, "float16": 1e-2}.get(dtype, 2e-3 if device == "cuda" else 1e-4)


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- results file


def read_results(path: Path) -> tuple[list[dict], int]:
    """Complete records of a JSONL results file and the byte length they span.

    A last line without its newline (the writer was killed mid-write) or that is
    not valid JSON is ignored; the caller truncates the file to the returned
    length so the line is rewritten when its config runs again."""
    if not path.exists():
        return [], 0
    data = path.read_bytes()
    records: list[dict] = []
    good = 0
    pos = 0
    while pos < len(data):
        nl = data.find(b"\n", pos)
        if nl < 0:
            break  # truncated last line
        line = data[pos:nl].strip()
        if line:
            try:
                records.append(json.loads(line))
            except json.JSONDecodeError:
                break  # a torn write; everything after it is dropped too
        pos = nl + 1
        good = pos
    return records, good


def done_ids(records: list[dict]) -> set[str]:
    return {r["id"] for r in records if r.get("type", "config") == "config" and "id" in r}


class ResultsWriter:
    """Appends one JSON line per record, flushed and fsync'ed before returning."""

    def __init__(self, path: Path):
        self.path = path
        self.lock = threading.Lock()
        path.parent.mkdir(parents=True, exist_ok=True)
        _, good = read_results(path)
        if path.exists() and path.stat().st_size != good:
            with open(path, "r+b") as f:
                f.truncate(good)
        self.fh = open(path, "ab")

    def append(self, record: dict) -> None:
        with self.lock:
            self.fh.write((json.dumps(record, allow_nan=False, default=_json_default) + "\n").encode())
            self.fh.flush()
            os.fsync(self.fh.fileno())

    def close(self) -> None:
        self.fh.close()


def _json_default(v: Any) -> Any:
    if isinstance(v, float) and not math.isfinite(v):
        return None
    return str(v)


def _finite(v: Optional[float]) -> Optional[float]:
    return v if v is not None and math.isfinite(v) else None


# --------------------------------------------------------------------------- plan


@dataclass
class Plan:
    path: Path
    data: dict

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> "Plan":
        p = Path(path).resolve()
        return cls(p, json.loads(p.read_text()))

    @property
    def configs(self) -> list[dict]:
        return self.data["configs"]

    def config(self, cid: str) -> dict:
        for c in self.configs:
            if c["id"] == cid:
                return c
        raise KeyError(f"config {cid!r} is not in the plan {self.path}")

    def package_dir(self, key: str) -> Path:
        d = Path(self.data["packages"][key]["dir"])
        return d if d.is_absolute() else (self.path.parent / d).resolve()

    def opt(self, name: str, default: Any) -> Any:
        return self.data.get("options", {}).get(name, default)


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
                               "kernel_sha": kernel_sha(Path(fused.__file__).read_text())}
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
            # the fused walk caps its tile at MAX_BLOCK_Q unless told otherwise: a
            # swept chunk size is the tile it names
            tiles["block_q"] = chunk
        kw = dict(D=i["D"], dt_bias=i["dt_bias"], dt_softplus=True, **tiles)
        if "z" in i:
            kw["z"] = i["z"]

        def fn():
            return fwd(i["x"], i["dt"], i["A"], i["B"], i["C"], chunk, **kw)

        return fn

    def rel_err(self, out: Any, shape: dict) -> float:
        import torch

        if isinstance(out, tuple):
            out = out[0]
        bc, lc, hc, _ = self.check_slice(shape)
        got = out[:bc, :lc, :hc].double().cpu()
        ref = self.reference(shape).cpu()
        if not torch.isfinite(got).all():
            return math.inf
        return float(torch.linalg.vector_norm(got - ref) / torch.linalg.vector_norm(ref).clamp_min(1e-30))

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
            ms = self.time_ms(fn)
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
            "type": "config", "id": cfg["id"], "problem": cfg["problem"], "shape": cfg["shape"],
            "params": cfg["params"], "device": self.device, "dtype": self.dtype_name,
            "status": "error", "reason": None, "ms": None, "rel_err": None,
            "baseline_ms": None, "speedup": None,
        }
        try:
            if cfg["params"].get("sleep_s"):  # tests: a config that hangs
                time.sleep(float(cfg["params"]["sleep_s"]))
            if cfg["params"].get("crash"):  # tests: a config that kills the process
                os.kill(os.getpid(), signal.SIGKILL)
            base = self.baseline(cfg)
            rec["baseline_ms"] = _finite(base)
            fn = self.call(cfg["package"], cfg["shape"], cfg["params"])
            out = fn()
            self.sync()
            err = self.rel_err(out, cfg["shape"])
            rec["rel_err"] = _finite(err)
            if not (err <= self.tol):
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
        rec["t"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        return rec


# --------------------------------------------------------------------------- tuned dispatch


def kernel_sha(source: str) -> str:
    """sha256 of a generated kernel file without its header lines (the model
    file and IR hash differ between packages; the code is what was measured).
    packages/codegen/src/tuned.ts computes the same."""
    lines = source.split("\n")
    while lines and (lines[0].startswith("# generated from ") or lines[0].startswith("# ir-hash: ")):
        lines.pop(0)
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()



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
    """Worker op: run config `args["id"]` of the plan file `args["plan"]`, return its record.

    The TS side appends the record; the worker's own timeout covers hangs."""
    plan_path = str(Path(args["plan"]).resolve())
    runner = _RUNNERS.get(plan_path)
    if runner is None:
        runner = _RUNNERS[plan_path] = Runner(Plan.load(plan_path))
    return runner.point(runner.plan.config(args["id"]))


def op_sweep_point(args: dict, emit: Callable[[dict], None]) -> dict:
    """The worker registry's entry (mamba2_runner/worker.py OPS["sweep_point"])."""
    emit({"id": args.get("id"), "phase": "start"})
    return sweep_point(args)


# --------------------------------------------------------------------------- child and supervisor


def _inflight_path(out: Path) -> Path:
    return out.with_name(out.name + ".inflight")


def _best_line(records: list[dict]) -> str:
    ok = [r for r in records if r.get("status") == "ok" and r.get("ms") is not None]
    if not ok:
        return "best: -"
    best = min(ok, key=lambda r: r["ms"])
    return f"best: {best['id']} {best['ms']:.3f} ms"


def run_child(plan_path: str, out_path: str, deadline: Optional[float], timeout_s: float,
              ids_path: Optional[str] = None) -> int:
    plan = Plan.load(plan_path)
    out = Path(out_path).resolve()
    writer = ResultsWriter(out)
    records, _ = read_results(out)
    done = done_ids(records)
    configs = plan.configs
    if ids_path is not None:  # a torchrun rank's shard
        mine = set(json.loads(Path(ids_path).read_text()))
        configs = [c for c in configs if c["id"] in mine]
    todo = [c for c in configs if c["id"] not in done]
    total = len(configs)
    runner = Runner(plan)
    log(f"sweep: {len(done)}/{total} done, {len(todo)} to run on {runner.device}")
    inflight = _inflight_path(out)
    t_start = time.time()
    for n, cfg in enumerate(todo):
        if deadline is not None and time.time() > deadline:
            log(f"sweep: time budget spent, {len(todo) - n} configs left; rerun with --resume")
            inflight.unlink(missing_ok=True)
            return 0
        inflight.write_text(json.dumps({"id": cfg["id"], "pid": os.getpid(), "t": time.time()}))
        state = {"done": False}

        def on_timeout(cfg=cfg, state=state):
            with writer.lock:
                if state["done"]:
                    return
                state["done"] = True
            writer.append({
                "type": "config", "id": cfg["id"], "problem": cfg["problem"], "shape": cfg["shape"],
                "params": cfg["params"], "device": runner.device, "status": "timeout", "ok": False,
                "reason": f"no result after {timeout_s:g} s (watchdog); the process was restarted",
                "ms": None, "rel_err": None, "baseline_ms": None, "speedup": None,
            })
            log(f"sweep: {cfg['id']} timed out after {timeout_s:g} s; restarting")
            os._exit(EXIT_TIMEOUT)

        timer = threading.Timer(timeout_s, on_timeout)
        timer.daemon = True
        timer.start()
        try:
            rec = runner.point(cfg)
        except BaseException as exc:  # point() records failures itself; this is a last resort
            rec = {"type": "config", "id": cfg["id"], "problem": cfg["problem"], "shape": cfg["shape"],
                   "params": cfg["params"], "status": "error", "ok": False,
                   "reason": f"{type(exc).__name__} in the driver",
                   "ms": None, "rel_err": None, "baseline_ms": None, "speedup": None}
        timer.cancel()
        with writer.lock:
            if state["done"]:
                continue
            state["done"] = True
        fatal = rec.pop("fatal", False)
        writer.append(rec)
        records.append(rec)
        rate = (time.time() - t_start) / (n + 1)
        extra = f"{rec['ms']:.3f} ms" if rec["ms"] is not None else (rec["reason"] or "")[:80]
        log(f"[{len(done) + n + 1}/{total}] {cfg['id']} {rec['status']} {extra} | "
            f"eta {rate * (len(todo) - n - 1):.0f} s | {_best_line(records)}")
        if fatal:
            inflight.unlink(missing_ok=True)
            return EXIT_FATAL
    inflight.unlink(missing_ok=True)
    writer.close()
    return 0


def run(plan_path: str, out_path: str, resume: bool, budget_s: Optional[float], timeout_s: float,
        max_restarts: int = 50, ids: Optional[list[str]] = None, deadline: Optional[float] = None,
        child_env: Optional[dict] = None, print_summary: bool = True) -> int:
    """Runs the plan's configs (or only `ids`, a torchrun rank's shard) in supervised children."""
    out = Path(out_path).resolve()
    if out.exists() and out.stat().st_size > 0 and not resume:
        log(f"{out} already has results: pass --resume to continue it, or remove it to start over")
        return 2
    if deadline is None and budget_s is not None:
        deadline = time.time() + budget_s
    ids_path: Optional[Path] = None
    if ids is not None:
        ids_path = out.with_name(out.name + ".ids.json")
        ids_path.write_text(json.dumps(ids))
    restarts = 0
    while True:
        cmd = [sys.executable, "-m", "mamba2_runner.sweep", "_child", "--plan", plan_path, "--out", str(out),
               "--timeout-s", str(timeout_s)]
        if deadline is not None:
            cmd += ["--deadline", repr(deadline)]
        if ids_path is not None:
            cmd += ["--ids", str(ids_path)]
        env = dict(os.environ, **(child_env or {}))
        here = str(Path(__file__).resolve().parents[1])
        env["PYTHONPATH"] = here + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
        rc = subprocess.call(cmd, env=env)
        if rc == 0:
            records, _ = read_results(out)
            want = set(ids) if ids is not None else {c["id"] for c in Plan.load(plan_path).configs}
            left = len(want - done_ids(records))
            log(f"sweep: {len(want) - left}/{len(want)} configs recorded in {out}")
            if ids_path is not None:
                ids_path.unlink(missing_ok=True)
            if print_summary:
                print(summary(records))
            return 0 if left == 0 or deadline is not None else 1
        restarts += 1
        if rc not in (EXIT_TIMEOUT, EXIT_FATAL) and not _record_dead_inflight(out, rc):
            # died outside any config (bad plan, import error): a restart would do the same
            log(f"sweep: the driver exited with {rc} before running a config; see the error above")
            return 1
        if restarts > max_restarts:
            log(f"sweep: gave up after {max_restarts} restarts")
            return 1
        log(f"sweep: child exited with {rc}; restarting ({restarts})")


def _record_dead_inflight(out: Path, rc: int) -> bool:
    """Records an "error" line for the config the dead child was running; False if it ran none."""
    inflight = _inflight_path(out)
    if not inflight.exists():
        return False
    try:
        cid = json.loads(inflight.read_text())["id"]
    except Exception:
        inflight.unlink(missing_ok=True)
        return False
    records, _ = read_results(out)
    if cid not in done_ids(records):
        how = f"signal {-rc}" if rc < 0 else f"exit code {rc}"
        w = ResultsWriter(out)
        w.append({"type": "config", "id": cid, "status": "error", "ok": False,
                  "reason": f"the sweep process died ({how}) while running this config",
                  "ms": None, "rel_err": None, "baseline_ms": None, "speedup": None})
        w.close()
    inflight.unlink(missing_ok=True)
    return True


def summary(records: list[dict]) -> str:
    """Best config per problem and the failure counts, as a text table (stdout of `run`)."""
    by_problem: dict[str, list[dict]] = {}
    for r in records:
        by_problem.setdefault(r.get("problem") or r["id"].split("@")[-1], []).append(r)
    lines = [f"{'problem':<22} {'best config':<40} {'ms':>8} {'default':>8} {'speedup':>7}  ok/all  failures"]
    for prob, rs in sorted(by_problem.items()):
        ok = [r for r in rs if r.get("status") == "ok" and r.get("ms") is not None]
        fails: dict[str, int] = {}
        for r in rs:
            if r.get("status") != "ok":
                fails[r.get("status", "?")] = fails.get(r.get("status", "?"), 0) + 1
        best = min(ok, key=lambda r: r["ms"]) if ok else None
        ms = best["ms"] if best else None
        base = best.get("baseline_ms") if best else None
        cells = [
            f"{prob:<22}",
            f"{best['id'] if best else '-':<40}",
            f"{ms:8.3f}" if ms is not None else f"{'-':>8}",
            f"{base:8.3f}" if base else f"{'-':>8}",
            f"{base / ms:6.2f}x" if ms and base else f"{'-':>7}",
            f" {len(ok)}/{len(rs)} ",
            ", ".join(f"{k} {v}" for k, v in sorted(fails.items())) or "-",
        ]
        lines.append(" ".join(cells))
    return "\n".join(lines)


def main(argv: Optional[list[str]] = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m mamba2_runner.sweep", description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run", help="run every config of a plan not yet in the results file")
    r.add_argument("--plan", required=True)
    r.add_argument("--out", required=True)
    r.add_argument("--resume", action="store_true", help="skip configs already recorded in --out")
    r.add_argument("--budget-s", type=float, default=None, help="stop starting configs after this long")
    r.add_argument("--timeout-s", type=float, default=None, help="per-config watchdog (default: plan's, else 120)")
    sm = sub.add_parser("summary", help="print the best config per problem of a results file")
    sm.add_argument("results")
    c = sub.add_parser("_child")
    c.add_argument("--plan", required=True)
    c.add_argument("--out", required=True)
    c.add_argument("--deadline", type=float, default=None)
    c.add_argument("--timeout-s", type=float, required=True)
    c.add_argument("--ids", default=None, help="JSON list of the config ids to run (a torchrun rank's shard)")
    a = ap.parse_args(argv)
    if a.cmd == "summary":
        print(summary(read_results(Path(a.results))[0]))
        return 0
    if a.cmd == "_child":
        return run_child(a.plan, a.out, a.deadline, a.timeout_s, a.ids)
    timeout = a.timeout_s if a.timeout_s is not None else float(Plan.load(a.plan).opt("timeout_s", 120))
    if under_torchrun():
        from .sweep_dist import run_distributed

        return run_distributed(a.plan, a.out, a.resume, a.budget_s, timeout)
    return run(a.plan, a.out, a.resume, a.budget_s, timeout)


def under_torchrun(env: Optional[dict] = None) -> bool:
    """True when started by torchrun (it sets RANK, WORLD_SIZE and LOCAL_RANK for every process)."""
    env = os.environ if env is None else env
    return all(k in env for k in ("RANK", "WORLD_SIZE", "LOCAL_RANK"))


if __name__ == "__main__":
    sys.exit(main())
