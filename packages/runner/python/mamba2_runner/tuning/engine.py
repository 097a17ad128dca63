"""Two-phase sweep engine of issue 13: check everything in parallel, then time one at a time.

    phase 1 (check): the configs are dealt to N child processes
        (`python -m mamba2_runner.tuning _check ...`) that share the one GPU. Each
        builds its configs, runs them once at the full shape and compares against
        the float64 reference; that run also compiles every Triton kernel into the
        shared disk cache (TRITON_CACHE_DIR). Compiling is CPU work, so 16 cores
        compile 16 configs at once; a GPU sweep on one H200 is otherwise mostly
        compile time. A child that dies or hangs loses only its unchecked configs
        (recorded as `error`, never timed).
    phase 2 (time): this process times the configs that passed, one after the
        other (nothing else runs on the GPU then), loading the compiled kernels
        from the disk cache, with triton.testing.do_bench (median). The default
        config of each problem is timed three times (first, middle, last of the
        problem's configs): its spread is the run's noise, which `gen --tuned`
        needs (a row enters the table only if it beat the default by more).

A sweep module (tuning/kernels.py, tuning/model.py) provides
    configs(opts) -> [cfg]        cfg = {id, kind, problem, shape, params}; params {} = the default
    Case(cfg, device, opts)       .check() -> (rel_err, tol, detail) ; .fn() -> callable to time
and the engine writes one JSON line per config (ResultsWriter: fsync'ed, under
the results lock), each with `kernel_sha` (record_sha: one sha over every
library file the record's kernels depend on), `kernel_shas` (each file's) and
`provenance` (GPU model, driver, CUDA, torch, triton, Python, host, commit,
kernel sha, date). Appending to a file whose records were measured on other kernels is
refused (exit 2): a sweep never mixes kernel shas.
"""
from __future__ import annotations

import importlib
import json
import math
import os
import subprocess
import sys
import time
import traceback
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Callable, Optional

from ..checks import passes
from ..sweep_provenance import KERNEL_DEPS, combined_sha, kernel_sha, provenance
from ..sweep_results import ResultsLock, ResultsWriter, finite, log, read_results, utc_now

ROOT = Path(__file__).resolve().parents[5]
LIBRARY = ROOT / "packages" / "kernels" / "python" / "mamba2_kernels"
# The kernels a record of each kind measured (sweep_provenance.KERNEL_DEPS keys); any other kind (a whole
# block) measured all of BLOCK_KERNELS.
KIND_KERNELS = {"fwd": ("kernels/ssd_fused.py",), "bwd": ("kernels/ssd_bwd.py",)}
BLOCK_KERNELS = ("kernels/ssd_fused.py", "kernels/ssd_bwd.py", "kernels/conv.py", "kernels/conv_bwd.py",
                 "kernels/norm.py", "kernels/norm_bwd.py")
DEFAULT_REPEATS = 3


def kind_files(kind: str) -> tuple[str, ...]:
    """Every library file a record of `kind` depends on: the union of its kernels' KERNEL_DEPS, sorted."""
    return tuple(sorted({f for k in KIND_KERNELS.get(kind, BLOCK_KERNELS) for f in KERNEL_DEPS[k]}))


def kernel_shas(library: Path = LIBRARY) -> dict[str, str]:
    """kernel_sha of each library file any sweep kind depends on (the same hash a generated copy has
    without its header), keyed by its path inside mamba2_kernels/."""
    files = sorted({f for k in BLOCK_KERNELS for f in KERNEL_DEPS[k]})
    return {f: kernel_sha((Path(library) / f).read_text()) for f in files if (Path(library) / f).is_file()}


def record_sha(kind: str, shas: dict[str, str]) -> Optional[str]:
    """The one sha a record is filed under: combined_sha over every file of kind_files(kind). For `fwd` it is
    what codegen records as the fused scan's kernel_sha and `gen --tuned` compares with; None when one of
    the files is missing."""
    files = kind_files(kind)
    if any(f not in shas for f in files):
        return None
    return combined_sha({f: shas[f] for f in files})


class MixedKernels(Exception):
    pass


def refuse_mixed(records: list[dict], shas: dict[str, str]) -> None:
    """A results file holds one kernel version: records of another sha (or of none) are refused."""
    for r in records:
        if r.get("type", "config") != "config":
            continue
        kind = str(r.get("kind"))
        want = record_sha(kind, shas)
        if r.get("kernel_sha") != want:
            got = r.get("kernel_sha")
            theirs = r.get("kernel_shas") if isinstance(r.get("kernel_shas"), dict) else {}
            changed = [f for f in kind_files(kind) if f in theirs and theirs[f] != shas.get(f)]
            unrecorded = [f for f in kind_files(kind) if theirs and f not in theirs]
            why = ([f"{', '.join(changed)} changed since"] if changed else []) + (
                [f"{', '.join(unrecorded)} not recorded then"] if unrecorded else [])
            which = f" ({'; '.join(why)})" if why else ""
            raise MixedKernels(
                f"record {r.get('id')} was measured on kernel {str(got)[:12] if got else '(none recorded)'}, this checkout's "
                f"{kind} kernel is {str(want)[:12]}{which}; the sha covers {', '.join(kind_files(kind))}. "
                "A sweep never mixes kernels: pass another --out or move the file away.")


def _provenance(device: str) -> dict:
    shim = SimpleNamespace(device=device, plan=SimpleNamespace(data={}, path=ROOT / "package.json"))
    try:
        return provenance(shim)
    except Exception as exc:  # never lose a sweep to a missing nvidia-smi
        return {"error": f"{type(exc).__name__}: {exc}"}


def select_device() -> str:
    from ..pkgload import select_device as sd

    return sd()


# --------------------------------------------------------------------------- phase 1: checks in children


def check_one(mod: Any, cfg: dict, device: str, opts: dict) -> dict:
    """Build, run once, compare against float64; never raises."""
    from ..sweep import classify, is_fatal

    t0 = time.time()
    out: dict[str, Any] = {"id": cfg["id"], "status": "error", "rel_err": None, "tol": None, "reason": None}
    try:
        case = mod.Case(cfg, device, opts)
        err, tol, detail = case.check()
        out.update(rel_err=finite(err), tol=tol, detail=detail)
        if passes(err, tol):
            out["status"] = "ok"
        else:  # NaN never passes
            out["status"] = "wrong"
            out["reason"] = f"rel err {err:.3g} > tol {tol:g} against the float64 reference ({detail})"
    except Exception as exc:
        out["status"], out["reason"] = classify(exc)
        out["traceback"] = traceback.format_exc()[-1500:]
        if is_fatal(exc):  # the CUDA context is unusable: the child stops, the parent starts a fresh one
            out["fatal"] = True
    out["check_s"] = round(time.time() - t0, 2)
    return out


def child_main(configs_path: str, ids: list[str], out_path: str) -> int:
    data = json.loads(Path(configs_path).read_text())
    device = select_device()
    by_id = {c["id"]: c for c in data["configs"]}
    with open(out_path, "a", buffering=1) as fh:
        for cid in ids:
            cfg = by_id[cid]
            mod = importlib.import_module(cfg["module"])
            r = check_one(mod, cfg, device, data["opts"][cfg["module"]])
            fh.write(json.dumps(r) + "\n")
            fh.flush()
            if r.get("fatal"):
                return FATAL_EXIT
    return 0


# exit code of a check child after a CUDA error that poisons its context (an illegal memory
# access): every later config in that process would fail too, so check_all restarts the rest
FATAL_EXIT = 3


def deal(configs: list[dict], workers: int) -> list[list[str]]:
    """Config ids per child. A check group (one problem: its inputs and float64 reference are built once)
    stays in one child where it can; groups go largest first onto the least loaded child; within a child
    ours run before the incumbent's, so a deadline hit while it autotunes costs only its configs."""
    groups: dict[str, list[dict]] = {}
    for c in configs:
        groups.setdefault(c.get("check_group", c["problem"]), []).append(c)
    per = max(1, math.ceil(len(configs) / max(1, workers)))
    chunks: list[list[dict]] = []
    for cs in sorted(groups.values(), key=len, reverse=True):
        for i in range(0, len(cs), per):
            chunks.append(cs[i:i + per])
    shards: list[list[dict]] = [[] for _ in range(max(1, workers))]
    for ch in sorted(chunks, key=len, reverse=True):
        min(shards, key=len).extend(ch)
    return [[c["id"] for c in sorted(s, key=lambda c: c.get("provider", "ours") != "ours")] for s in shards if s]


def check_all(configs: list[dict], opts: dict, workdir: Path, workers: int, deadline: float) -> dict[str, dict]:
    """Phase 1: {id: check result} for configs of any sweep module (cfg["module"]; opts per module)."""
    workdir.mkdir(parents=True, exist_ok=True)
    cpath = workdir / "configs.json"
    cpath.write_text(json.dumps({"configs": configs, "opts": opts}))
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}

    def done_ids(part: Path) -> dict[str, dict]:
        got: dict[str, dict] = {}
        if part.is_file():
            for line in part.read_text().splitlines():
                try:
                    r = json.loads(line)
                except ValueError:
                    continue
                got[r["id"]] = r
        return got

    def spawn(k: int, ids: list[str], part: Path, errf: Any) -> subprocess.Popen:
        ipath = workdir / f"ids.{k}.json"
        ipath.write_text(json.dumps(ids))
        return subprocess.Popen([sys.executable, "-m", "mamba2_runner.tuning", "_check",
                                 "--configs", str(cpath), "--ids", str(ipath), "--out", str(part)],
                                stdout=errf, stderr=subprocess.STDOUT, env=env, cwd=ROOT)

    procs = []
    for k, ids in enumerate(deal(configs, workers)):
        part = workdir / f"check.{k}.jsonl"
        part.unlink(missing_ok=True)
        errf = open(workdir / f"check.{k}.log", "w")
        procs.append([spawn(k, ids, part, errf), part, ids, errf, k])
    # wait for every child; one that stopped after a fatal CUDA error is started again on the
    # configs it has not checked (its results file is appended to, so none is lost)
    while True:
        live = False
        for entry in procs:
            p, part, ids, errf, k = entry
            rc = p.poll()
            if rc is None:
                if time.time() >= deadline:
                    p.kill()
                    p.wait()
                else:
                    live = True
                continue
            if rc == FATAL_EXIT and time.time() < deadline:
                rest = [cid for cid in ids if cid not in done_ids(part)]
                if rest:
                    errf.write(f"\n[check_all] restarting after a fatal CUDA error: {len(rest)} configs left\n")
                    errf.flush()
                    entry[0] = spawn(k, rest, part, errf)
                    live = True
        if not live:
            break
        time.sleep(0.2)
    results: dict[str, dict] = {}
    for p, part, ids, errf, _ in procs:
        errf.close()
        results.update(done_ids(part))
        for cid in ids:
            if cid not in results:
                why = "was stopped at the check deadline" if p.returncode in (-9, 137) else f"exited with {p.returncode}"
                results[cid] = {"id": cid, "status": "timeout" if p.returncode in (-9, 137) else "error",
                                "reason": f"check process {why} before this config (log: {errf.name})"}
    return results


# --------------------------------------------------------------------------- phase 2: timing here


def time_ms(fn: Callable[[], Any], device: str, opts: dict) -> float:
    if device == "cuda":
        import triton.testing

        return float(triton.testing.do_bench(fn, warmup=int(opts.get("warmup_ms", 5)), rep=int(opts.get("rep_ms", 25)),
                                             return_mode="median"))
    t0 = time.perf_counter()
    fn()
    return (time.perf_counter() - t0) * 1e3


class Job:
    """One sweep module's configs and results file."""

    def __init__(self, module: str, configs: list[dict], opts: dict, out: Path):
        self.module, self.opts, self.out = module, opts, Path(out)
        self.configs = [{**c, "module": module} for c in configs]
        self.mod = importlib.import_module(module)


def run(module: str, configs: list[dict], opts: dict, out: Path, *, workers: int, budget_s: float,
        resume: bool = False) -> int:
    return run_many([Job(module, configs, opts, out)], workers=workers, budget_s=budget_s, resume=resume)


def run_many(jobs: list[Job], *, workers: int, budget_s: float, resume: bool = False,
             check_share: float = 0.6) -> int:
    """Check every job's configs in one pool of processes, then time job after job.
    0: every config recorded; 1: the budget left some untimed (recorded as `skipped`); 2: refused."""
    from ..sweep import classify

    t_start = time.time()
    device = select_device()
    shas = kernel_shas()
    locks = []
    try:
        todo: list[dict] = []
        for job in jobs:
            lock = ResultsLock(job.out)
            try:
                lock.__enter__()
            except Exception as exc:
                log(f"tuning: {exc}")
                return 2
            locks.append(lock)
            prior = read_results(job.out).records if job.out.exists() else []
            if prior and not resume:
                log(f"tuning: {job.out} already has {len(prior)} records. Pass --resume to add to it, or another --out.")
                return 2
            try:
                refuse_mixed(prior, shas)
            except MixedKernels as exc:
                log(f"tuning: {job.out}: {exc}")
                return 2
            done = {r["id"] for r in prior if "id" in r}
            job.todo = [c for c in job.configs if c["id"] not in done]  # type: ignore[attr-defined]
            todo += job.todo  # type: ignore[attr-defined]
        prov = _provenance(device)
        log(f"tuning: checking {len(todo)} configs in {workers} processes against the float64 reference")
        work = jobs[0].out.parent / (jobs[0].out.name + ".work")
        checks = check_all(todo, {j.module: j.opts for j in jobs}, work, workers,
                           t_start + budget_s * check_share) if todo else {}
        bad = sum(r["status"] != "ok" for r in checks.values())
        log(f"tuning: checks done in {time.time() - t_start:.0f} s ({bad} not ok); timing the others one by one")
        left = 0
        # ours first (every job), the incumbent last: its autotuning may still have to compile what
        # phase 1 could not, and a budget that runs out then costs only incumbent timings
        writers = {id(j): ResultsWriter(j.out) for j in jobs}
        defaults: dict[str, tuple] = {}
        for provider in ("ours", "mamba_ssm"):
            for job in jobs:
                left += _time_job(job, checks, device, shas, prov, t_start, budget_s, classify, writers[id(job)],
                                  provider, defaults)
        for w in writers.values():
            w.close()
        log(f"tuning: done in {time.time() - t_start:.0f} s")
        return 1 if left else 0
    finally:
        for lock in locks:
            lock.release()


# rounds of the confirm pass (_time_job): default and candidate alternate, the median ratio counts
CONFIRM_ROUNDS = 3


def _time_job(job: Job, checks: dict, device: str, shas: dict, prov: dict, t_start: float, budget_s: float,
              classify: Callable, writer: ResultsWriter, provider: str, defaults: dict) -> int:
    """Time (and record) the job's configs of one provider; `defaults` carries each problem's
    (default ms, noise) from the `ours` pass to the incumbent's."""
    mod, opts = job.mod, job.opts

    def write(cfg: dict, extra: dict) -> None:
        t = utc_now()
        rec = {"type": "config", **{k: cfg[k] for k in ("id", "kind", "problem", "shape", "params")},
               "provider": cfg.get("provider", "ours"), "device": device, "dtype": opts.get("dtype", "bfloat16"),
               **extra, "ok": extra.get("status") == "ok", "kernel_sha": record_sha(cfg["kind"], shas),
               "kernel_shas": shas, "t": t}
        rec["provenance"] = {**prov, "kernel_sha": rec["kernel_sha"], "date": t}
        writer.append(rec)
        ms = rec.get("ms")
        log(f"{rec['status']:>16} {cfg['id']}" + (f"  {ms:.4f} ms" if isinstance(ms, float) else "")
            + (f"  ({rec.get('reason')})" if rec.get("reason") else ""))

    cases: dict[str, Any] = {}

    def measure(cfg: dict, chk: dict) -> dict:
        try:
            case = cases.get(cfg["id"])
            if case is None:
                case = cases[cfg["id"]] = mod.Case(cfg, device, opts)
            fn = case.fn()
            fn()  # loads the kernels phase 1 compiled (disk cache)
            res = {**chk, "ms": time_ms(fn, device, opts)}
            if isinstance(getattr(case, "path", None), str):  # which path the incumbent ran (fused or why not)
                res["path"] = case.path
            for name, f in getattr(case, "extra_fns", lambda: {})().items():
                f()
                res[name] = time_ms(f, device, opts)
            return res
        except Exception as exc:
            st, why = classify(exc)
            return {**chk, "status": st, "reason": f"at timing: {why}", "ms": None}

    by_problem: dict[str, list[dict]] = {}
    for c in job.todo:  # type: ignore[attr-defined]
        if c.get("provider", "ours") == provider:
            by_problem.setdefault(c["problem"], []).append(c)
    left = 0
    for cfgs in by_problem.values():
        default = next((c for c in cfgs if not c["params"] and c.get("provider", "ours") == "ours"), None)
        order = [c for c in cfgs if c is not default]
        slots = {0, len(order) // 2, len(order)} if default is not None else set()
        seq: list[Optional[dict]] = []
        for i in range(len(order) + 1):
            if i in slots:
                seq.append(None)  # the default, three times: first, middle, last
            if i < len(order):
                seq.append(order[i])
        results: dict[str, dict] = {}
        default_runs: list[dict] = []
        for item in seq:
            cfg = default if item is None else item
            assert cfg is not None
            chk = checks.get(cfg["id"], {"status": "error", "reason": "not checked"})
            if chk["status"] != "ok":
                res = {**chk, "ms": None}
            elif time.time() - t_start > budget_s:
                res = {**chk, "status": "skipped", "reason": f"budget of {budget_s:g} s spent before timing", "ms": None}
                left += item is not None
            else:
                res = measure(cfg, chk)
            if item is None:
                default_runs.append(res)
            else:
                results[cfg["id"]] = res
        base_runs = [r["ms"] for r in default_runs if r.get("ms") is not None]
        base = sorted(base_runs)[len(base_runs) // 2] if base_runs else None
        noise = (max(base_runs) - min(base_runs)) / base if base and len(base_runs) > 1 else None
        if default is not None and base is not None and noise is not None:
            # confirm pass: each config that beat the default by more than the noise is timed again
            # CONFIRM_ROUNDS times alternating with the default; gen --tuned admits a row only on
            # the median of those ratios (2026-12-01e: a 1.34x in one sweep was 1.00x side by side)
            for cfg in order:
                res = results[cfg["id"]]
                if res.get("status") != "ok" or not res.get("ms") or base / res["ms"] <= 1 + noise:
                    continue
                if time.time() - t_start > budget_s:
                    break
                ratios = []
                for _ in range(CONFIRM_ROUNDS):
                    # base is set: the default passed its check and was timed
                    d, c = measure(default, checks[default["id"]]), measure(cfg, checks[cfg["id"]])
                    if d.get("ms") and c.get("ms"):
                        ratios.append(d["ms"] / c["ms"])
                if ratios:
                    res["confirm_speedup"] = sorted(ratios)[len(ratios) // 2]
                    res["confirm_ratios"] = ratios
        cases.clear()  # frees this problem's tensors before the next
        if default is not None:
            defaults[f"{job.module}:{cfgs[0]['problem']}"] = (base, noise)
        else:
            base, noise = defaults.get(f"{job.module}:{cfgs[0]['problem']}", (None, None))
        timed: list[tuple[dict, dict]] = []
        if default is not None:
            dres = next((r for r in default_runs if r.get("ms") is not None), default_runs[-1])
            if base is not None:
                dres = {**dres, "ms": base, "status": "ok", "default_repeats_ms": base_runs}
            timed.append((default, dres))
        timed += [(c, results[c["id"]]) for c in order]
        for cfg, res in timed:
            extra = {k: v for k, v in res.items() if k != "id"}
            ms = extra.get("ms")
            extra.update(default_ms=base, noise=noise, speedup=base / ms if base and ms else None)
            extra.update(mod.floor(cfg, ms, prov.get("gpu_model")))
            write(cfg, extra)
    return left
