"""The results file of a sweep: one JSON object per line, appended and fsync'ed.

Reading never loses a valid record. A last line without its newline is the
write a kill interrupted: it is cut (its config runs again). A complete line
in the middle that is not a JSON object (a disk error, a hand edit) is moved
to `<results>.corrupt`, said so on stderr, and every record around it is
kept. `lock_results` makes one sweep the only writer of a results file: a
second one is refused with the holder's pid (flock: a killed holder frees it).
"""
from __future__ import annotations

import fcntl
import json
import math
import os
import sys
import threading
import time
from pathlib import Path
from typing import Any, NamedTuple, Optional


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


class Results(NamedTuple):
    records: list[dict]
    #: bytes of the file up to the end of its last complete line
    good: int
    #: (1-based line number, raw line) of complete lines that are not JSON objects
    corrupt: list[tuple[int, bytes]]


def read_results(path: Path) -> Results:
    """Every record of a results file; see the module comment for bad lines."""
    path = Path(path)
    if not path.exists():
        return Results([], 0, [])
    data = path.read_bytes()
    records: list[dict] = []
    corrupt: list[tuple[int, bytes]] = []
    pos = good = 0
    lineno = 0
    while pos < len(data):
        nl = data.find(b"\n", pos)
        last = nl < 0
        raw = data[pos:] if last else data[pos:nl]
        lineno += 1
        rec = _parse(raw)
        if last:
            if rec is not None:  # complete record, only its newline missing
                records.append(rec)
            break
        if rec is not None:
            records.append(rec)
        elif raw.strip():
            corrupt.append((lineno, raw))
        pos = good = nl + 1
    return Results(records, good, corrupt)


def _parse(raw: bytes) -> Optional[dict]:
    try:
        rec = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError):
        return None
    return rec if isinstance(rec, dict) else None


def done_ids(records: list[dict]) -> set[str]:
    return {r["id"] for r in records if r.get("type", "config") == "config" and "id" in r}


def corrupt_path(out: Path) -> Path:
    return out.with_name(out.name + ".corrupt")


def repair(path: Path) -> Results:
    """Makes the file hold exactly its valid records, one per line.

    Corrupt lines are appended to `<path>.corrupt` first (fsync'ed), then the
    file is rewritten atomically; a torn last line is cut. Returns what is kept."""
    path = Path(path)
    res = read_results(path)
    size = path.stat().st_size if path.exists() else 0
    if res.corrupt:
        side = corrupt_path(path)
        with open(side, "ab") as f:
            for n, raw in res.corrupt:
                f.write(raw.rstrip(b"\r") + b"\n")
            f.flush()
            os.fsync(f.fileno())
        tmp = path.with_name(path.name + ".tmp")
        with open(tmp, "wb") as f:
            for r in res.records:
                f.write(_line(r))
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
        _fsync_dir(path.parent)
        lines = ", ".join(str(n) for n, _ in res.corrupt)
        log(f"sweep: {path}: line(s) {lines} are not JSON records; moved them to {side} and kept all "
            f"{len(res.records)} valid records. Fix and append them by hand if they matter.")
        return Results(res.records, path.stat().st_size, [])
    if size != res.good:
        if res.records and size > res.good and _parse(path.read_bytes()[res.good:]) is not None:
            with open(path, "ab") as f:  # a complete last record without its newline
                f.write(b"\n")
        else:
            with open(path, "r+b") as f:
                f.truncate(res.good)
    return read_results(path)


def _fsync_dir(d: Path) -> None:
    try:
        fd = os.open(d, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _line(record: dict) -> bytes:
    return (json.dumps(record, allow_nan=False, default=_json_default) + "\n").encode()


def _json_default(v: Any) -> Any:
    if isinstance(v, float) and not math.isfinite(v):
        return None
    return str(v)


def finite(v: Optional[float]) -> Optional[float]:
    return v if v is not None and math.isfinite(v) else None


class ResultsWriter:
    """Appends one JSON line per record, flushed and fsync'ed before returning.

    Opening repairs the file (see `repair`), so appends start on a line of their own."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.lock = threading.Lock()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.kept = repair(self.path)
        self.fh = open(self.path, "ab")

    def append(self, record: dict) -> None:
        line = _line(record)
        with self.lock:
            self.fh.write(line)
            self.fh.flush()
            os.fsync(self.fh.fileno())

    def close(self) -> None:
        self.fh.close()


class ResultsLockedError(Exception):
    pass


def lock_path(out: Path) -> Path:
    return out.with_name(out.name + ".lock")


class ResultsLock:
    """An exclusive flock on `<results>.lock`, which holds the owner's pid.

    The kernel drops the lock when its holder dies (kill -9 included), so a
    stale lock file never blocks a --resume."""

    def __init__(self, out: Path):
        self.path = lock_path(Path(out))
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.fh = open(self.path, "a+")
        try:
            fcntl.flock(self.fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self.fh.seek(0)
            holder = self.fh.read().strip() or "unknown"
            self.fh.close()
            raise ResultsLockedError(
                f"{out} is being written by another sweep (pid {holder}, lock {self.path}). Two sweeps on one "
                "results file would both run every config: wait for that one to finish, stop it, "
                "or pass another --out.") from None
        self.fh.seek(0)
        self.fh.truncate()
        self.fh.write(f"{os.getpid()}\n")
        self.fh.flush()

    def release(self) -> None:
        if not self.fh.closed:
            fcntl.flock(self.fh.fileno(), fcntl.LOCK_UN)
            self.fh.close()

    def __enter__(self) -> "ResultsLock":
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def utc_now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


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
