"""The sweep supervisor: one queue of configs, one worker process per GPU slot.

This process is the only writer of the results file. Each slot owns a child
(`python -m mamba2_runner.sweep _child`, pinned with CUDA_VISIBLE_DEVICES when
the slot names a GPU) that imports the packages once, says hello with its
provenance, then answers one config id at a time on a pipe with the record.
Every slot takes the next config from the shared queue.

Failures, per slot:
- no answer within the timeout: the child is killed, "timeout" recorded, a
  fresh child started;
- the child dies mid-config (SIGKILL, segfault, lost CUDA context): the config
  goes back to the head of the queue for another slot (the same slot only when
  no other is left) and the slot starts a fresh child; a config that has
  killed `crash_retries + 1` children is recorded as "error";
- a child that cannot start retires its slot; the run fails only when no
  slot is left.
A record is appended and fsync'ed before the next config is taken, so a
killed supervisor loses only what was in flight: rerun with --resume.
"""
from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Optional

from .sweep_plan import Plan
from .sweep_provenance import MixedKernelsError, _fallback_provenance, check_one_kernel, stamp
from .sweep_results import ResultsLock, ResultsLockedError, ResultsWriter, done_ids, log, summary, utc_now

Event = Callable[[dict], None]

#: a child says hello after importing torch and the packages; cold caches on a GPU box take a while
START_TIMEOUT_S = float(os.environ.get("MAMBA2_SWEEP_START_TIMEOUT_S", "600"))


@dataclass
class Item:
    cfg: dict
    crashes: int = 0
    #: the slot whose child last died on it: another slot takes it first
    avoid: Optional[int] = None


class Queue:
    """The shared queue: take() blocks while configs may still come back from a dead child."""

    def __init__(self, cfgs: list[dict], slots: int, deadline: Optional[float]):
        self.items = [Item(c) for c in cfgs]
        self.cond = threading.Condition()
        self.in_flight = 0
        self.live = set(range(slots))
        self.deadline = deadline
        self.stopped = False

    def finished(self) -> bool:
        with self.cond:
            return self._over()

    def _over(self) -> bool:
        return self.stopped or (not self.items and self.in_flight == 0) or self._late()

    def _late(self) -> bool:
        return self.deadline is not None and time.time() > self.deadline

    def take(self, slot: int) -> Optional[Item]:
        with self.cond:
            while True:
                if self._over():
                    return None
                i = next((k for k, it in enumerate(self.items) if it.avoid != slot), None)
                # a config that killed this slot's child waits for another slot, unless none is left
                if i is None and self.items and not (self.live - {slot}):
                    i = 0
                if i is not None:
                    self.in_flight += 1
                    return self.items.pop(i)
                self.cond.wait(timeout=1.0)

    def done(self, item: Item, back: bool = False) -> None:
        with self.cond:
            self.in_flight -= 1
            if back:
                self.items.insert(0, item)
            self.cond.notify_all()

    def retire(self, slot: int) -> None:
        with self.cond:
            self.live.discard(slot)
            self.cond.notify_all()

    def stop(self) -> None:
        with self.cond:
            self.stopped = True
            self.cond.notify_all()


class ChildDied(Exception):
    def __init__(self, how: str):
        super().__init__(how)
        self.how = how


class ChildTimeout(Exception):
    pass


class Child:
    """One worker process and the thread that reads its answers."""

    def __init__(self, plan_path: str, env: dict):
        here = str(Path(__file__).resolve().parents[1])
        env = dict(env)
        env["PYTHONPATH"] = here + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "mamba2_runner.sweep", "_child", "--plan", plan_path],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env,
        )
        self.lines: "queue.Queue[Optional[bytes]]" = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()
        self.hello = self._answer(START_TIMEOUT_S).get("hello") or {}

    @property
    def pid(self) -> int:
        return self.proc.pid

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(line)
        self.lines.put(None)

    def _how(self) -> str:
        try:
            rc = self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.kill()
            rc = self.proc.returncode
        return f"signal {-rc}" if rc is not None and rc < 0 else f"exit code {rc}"

    def _answer(self, timeout_s: float) -> dict:
        try:
            line = self.lines.get(timeout=timeout_s)
        except queue.Empty:
            raise ChildTimeout() from None
        if line is None:
            raise ChildDied(self._how())
        return json.loads(line)

    def ask(self, cid: str, timeout_s: float) -> dict:
        assert self.proc.stdin is not None
        try:
            self.proc.stdin.write((json.dumps({"id": cid}) + "\n").encode())
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError):
            raise ChildDied(self._how()) from None
        return self._answer(timeout_s)["record"]

    def kill(self) -> None:
        try:
            self.proc.kill()
        except ProcessLookupError:
            pass
        self.proc.wait()

    def close(self) -> None:
        """Ends the child: EOF on its stdin, then a kill if it lingers."""
        try:
            if self.proc.stdin:
                self.proc.stdin.close()
            self.proc.wait(timeout=10)
        except (subprocess.TimeoutExpired, OSError):
            self.kill()


@dataclass
class Outcome:
    records: list[dict] = field(default_factory=list)
    ran: int = 0
    no_worker: Optional[str] = None


def failed(cfg: dict, status: str, reason: str) -> dict:
    return {"type": "config", "id": cfg["id"], "package": cfg.get("package"), "problem": cfg.get("problem"),
            "shape": cfg.get("shape"),
            "params": cfg.get("params"), "status": status, "ok": False, "reason": reason,
            "ms": None, "rel_err": None, "baseline_ms": None, "speedup": None}


def supervise(plan_path: str, todo: list[dict], writer: ResultsWriter, devices: list[Optional[str]],
              timeout_s: float, *, deadline: Optional[float] = None, crash_retries: int = 1,
              child_env: Optional[dict] = None, stamp: Callable[[dict, dict], dict],
              on_event: Optional[Event] = None, tag_slots: bool = False) -> Outcome:
    """Runs `todo` over one child per entry of `devices` (None: the environment as is).

    `stamp(record, hello)` adds provenance; `tag_slots` adds `worker` and `gpu`."""
    q = Queue(todo, len(devices), deadline)
    out = Outcome()
    emit = on_event or (lambda e: None)
    lock = threading.Lock()

    def record(rec: dict, slot: int, hello: dict) -> None:
        rec = stamp(rec, hello)
        if tag_slots:
            rec = {**rec, "worker": slot, "gpu": devices[slot]}
        writer.append(rec)
        with lock:
            out.records.append(rec)
            out.ran += 1
        emit({"event": "result", "record": rec, "worker": slot, "gpu": devices[slot]})

    def slot_loop(slot: int) -> None:
        gpu = devices[slot]
        env = dict(os.environ, **(child_env or {}))
        if gpu is not None:
            env["CUDA_VISIBLE_DEVICES"] = gpu
        on = f" (GPU {gpu})" if gpu is not None else ""
        child: Optional[Child] = None
        try:
            while not q.finished():
                if child is None:
                    try:
                        child = Child(plan_path, env)
                    except (ChildDied, ChildTimeout, json.JSONDecodeError) as exc:
                        why = exc.how if isinstance(exc, ChildDied) else "no hello"
                        out.no_worker = f"worker {slot}{on} did not start ({why}); see its error above"
                        log(f"sweep: {out.no_worker}; its slot retires")
                        emit({"event": "restart", "why": out.no_worker, "worker": slot, "gpu": gpu})
                        return
                item = q.take(slot)
                if item is None:
                    break
                cfg = item.cfg
                emit({"event": "config", "id": cfg["id"], "worker": slot, "gpu": gpu, "pid": child.pid})
                try:
                    rec = child.ask(cfg["id"], timeout_s)
                except ChildTimeout:
                    child.kill()
                    hello, child = child.hello, None
                    why = f"{cfg['id']} timed out after {timeout_s:g} s{on}; the worker was restarted"
                    log(f"sweep: {why}")
                    emit({"event": "restart", "why": why, "worker": slot, "gpu": gpu})
                    record(failed(cfg, "timeout", f"no result after {timeout_s:g} s (watchdog); the worker was "
                                  "restarted"), slot, hello)
                    q.done(item)
                    continue
                except ChildDied as died:
                    hello, child = child.hello, None
                    item.crashes += 1
                    why = f"worker {slot}{on} died during {cfg['id']} ({died.how})"
                    log(f"sweep: {why}; starting a fresh one")
                    emit({"event": "restart", "why": why, "worker": slot, "gpu": gpu})
                    if item.crashes > crash_retries:
                        record(failed(cfg, "error", f"the worker died on this config {item.crashes} times "
                                      f"(last: {died.how})"), slot, hello)
                        q.done(item)
                    else:
                        item.avoid = slot
                        q.done(item, back=True)
                    continue
                fatal = rec.pop("fatal", False)
                record(rec, slot, child.hello)
                q.done(item)
                if fatal:  # the CUDA context is poisoned: the child has exited after answering
                    child.close()
                    child = None
        finally:
            q.retire(slot)
            if child is not None:
                child.close()

    threads = [threading.Thread(target=slot_loop, args=(s,), daemon=True) for s in range(len(devices))]
    for t in threads:
        t.start()
    try:
        for t in threads:
            while t.is_alive():
                t.join(timeout=0.5)
    except KeyboardInterrupt:
        q.stop()
        raise
    if q.items and not q.stopped and not q._late() and not q.live:
        out.no_worker = out.no_worker or "no worker could run the configs left"
    return out


def child_main(plan_path: str, make_runner: Callable[[], Any], hello: Callable[[Any], dict]) -> int:
    """The worker side: hello, then one record per id read from stdin, until EOF."""
    _die_with_parent()
    proto = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)  # prints of Triton or the packages go to stderr, never into the protocol
    sys.stdout = sys.stderr
    runner = make_runner()
    proto.write(json.dumps({"hello": hello(runner)}) + "\n")
    for line in sys.stdin:
        cid = json.loads(line)["id"]
        try:
            rec = runner.point(runner.plan.config(cid))
        except BaseException as exc:  # point() records failures itself; this is a last resort
            rec = failed({"id": cid}, "error", f"{type(exc).__name__} in the worker: {exc}"[:500])
        rec.setdefault("t", utc_now())
        proto.write(json.dumps({"record": rec_safe(rec)}) + "\n")
        if rec.get("fatal"):
            return 76
    return 0


def rec_safe(rec: dict) -> dict:
    """Non-finite floats become null (the results file is strict JSON)."""
    import math

    return {k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in rec.items()}


def _die_with_parent() -> None:
    """Linux: the child is killed when the supervisor dies, so a kill -9 leaves no worker behind."""
    if not sys.platform.startswith("linux"):
        return
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except Exception:
        pass
    if os.getppid() == 1:  # the parent is already gone
        os._exit(1)


# --------------------------------------------------------------------------- the run


def run(plan_path: str, out_path: str, resume: bool, budget_s: Optional[float], timeout_s: float, *,
        ids: Optional[list[str]] = None, deadline: Optional[float] = None, child_env: Optional[dict] = None,
        print_summary: bool = True, gpus: Optional[list[str]] = None, crash_retries: int = 1,
        on_event: Optional[Callable[[dict], None]] = None) -> int:
    """Runs the plan's configs (or only `ids`, a torchrun rank's shard) under the supervisor.

    0: every config recorded (or the budget ran out); 1: configs left; 2: refused."""
    out = Path(out_path).resolve()
    try:
        plan = Plan.load(plan_path)
    except (OSError, ValueError, KeyError) as exc:
        log(f"sweep: cannot read the plan {plan_path}: {exc}. Write one with `pnpm bench --sweep <file> --prepare-only`.")
        return 2
    if out.exists() and out.stat().st_size > 0 and not resume:
        log(f"{out} already has results: pass --resume to continue it, or remove it to start over")
        return 2
    try:
        lock = ResultsLock(out)
    except ResultsLockedError as exc:
        log(f"sweep: {exc}")
        return 2
    with lock:
        writer = ResultsWriter(out)  # repairs a torn last line, quarantines corrupt ones
        try:
            records = list(writer.kept.records)
            try:
                shas = check_one_kernel(plan, records, out)
            except MixedKernelsError as exc:
                log(f"sweep: {exc}")
                return 2
            want = [c for c in plan.configs if ids is None or c["id"] in set(ids)]
            done = done_ids(records)
            todo = [c for c in want if c["id"] not in done]
            if deadline is None and budget_s is not None:
                deadline = time.time() + budget_s
            devices: list[Optional[str]] = list(gpus) if gpus else [None]
            emit = on_event or (lambda e: None)
            emit({"event": "start", "total": len(want), "done": len(want) - len(todo), "out": str(out),
                  "gpus": gpus or [], "best": _best(records)})
            log(f"sweep: {len(want) - len(todo)}/{len(want)} done, {len(todo)} to run"
                + (f" on GPUs {','.join(gpus)}" if gpus else ""))
            counter = {"done": len(want) - len(todo)}

            def on(e: dict) -> None:
                if e["event"] == "result":
                    rec = e["record"]
                    records.append(rec)
                    counter["done"] += 1
                    best = _best(records)
                    what = f"{rec['ms']:.3f} ms" if rec.get("ms") is not None else (rec.get("reason") or "")[:80]
                    on_gpu = f" (GPU {e['gpu']})" if e.get("gpu") is not None else ""
                    log(f"[{counter['done']}/{len(want)}] {rec['id']}{on_gpu} {rec['status']} {what} | best: "
                        + (f"{best['id']} {best['ms']:.3f} ms" if best else "-"))
                    e = {"event": "result", "id": rec["id"], "status": rec["status"], "ms": rec.get("ms"),
                         "reason": rec.get("reason"), "gpu": e.get("gpu"), "done": counter["done"],
                         "total": len(want), "best": best}
                emit(e)

            res = supervise(str(plan.path), todo, writer, devices, timeout_s, deadline=deadline,
                            crash_retries=crash_retries, child_env=child_env,
                            stamp=stamp(shas, _fallback_provenance(plan)), on_event=on, tag_slots=bool(gpus))
        finally:
            writer.close()
        left = len({c["id"] for c in want} - done_ids(records))
        if res.no_worker and left:
            log(f"sweep: {res.no_worker}; {left} configs left")
        elif left and deadline is not None and time.time() > deadline:
            log(f"sweep: time budget spent, {left} configs left; rerun with --resume")
        log(f"sweep: {len(want) - left}/{len(want)} configs recorded in {out}"
            + ("" if left == 0 else "; rerun with --resume to finish"))
        emit({"event": "end", "recorded": len(want) - left, "total": len(want), "complete": left == 0})
        if print_summary:
            print(summary(records), flush=True)
        if res.no_worker and left:
            return 1
        return 0 if left == 0 or deadline is not None else 1


def _best(records: list[dict]) -> Optional[dict]:
    ok = [r for r in records if r.get("status") == "ok" and r.get("ms") is not None]
    if not ok:
        return None
    b = min(ok, key=lambda r: r["ms"])
    return {"id": b["id"], "ms": b["ms"], "speedup": b.get("speedup")}
