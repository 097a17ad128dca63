"""The worker's JSON-lines protocol, spoken to a real `python -m mamba2_runner.worker`."""
from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

PYDIR = Path(__file__).resolve().parents[1]


class Worker:
    def __init__(self):
        env = dict(os.environ, PYTHONPATH=str(PYDIR))
        self.p = subprocess.Popen([sys.executable, "-m", "mamba2_runner.worker"], stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        self.ready = self.read()

    def read(self) -> dict:
        line = self.p.stdout.readline()
        assert line, f"worker closed stdout; stderr: {self.p.stderr.read()}"
        return json.loads(line)  # anything that is not JSON fails here

    def send(self, msg) -> None:
        self.p.stdin.write((msg if isinstance(msg, str) else json.dumps(msg)) + "\n")
        self.p.stdin.flush()

    def close(self) -> int:
        self.p.stdin.close()
        return self.p.wait(timeout=30)


def _stop(w: Worker) -> None:
    if w.p.poll() is None:
        w.p.kill()
        w.p.wait()


@pytest.fixture(scope="session")
def worker():
    """One worker for the tests that leave it running (the protocol has no
    state between requests; each of them checks its own ids): a worker costs
    a Python start and a torch import, ~3 s. Session, not module: under xdist
    the file's tests are handed out between other files' tests, and a module
    fixture is torn down and started again each time."""
    w = Worker()
    yield w
    _stop(w)


@pytest.fixture
def own_worker():
    """A fresh worker for a test that ends it (crash, stdin closed)."""
    w = Worker()
    yield w
    _stop(w)


def test_the_first_line_is_the_ready_event_with_versions(worker):
    r = worker.ready
    assert r["event"] == "ready"
    assert r["python"] == ".".join(map(str, sys.version_info[:3]))
    assert r["torch"] and r["triton"]
    assert "cuda" in r and "gpu" in r


def test_ping_gets_an_ok_response_with_the_same_id(worker):
    worker.send({"id": 7, "op": "ping", "args": {"echo": "x"}})
    assert worker.read() == {"id": 7, "ok": True, "result": {"pong": True, "pid": worker.p.pid, "echo": "x"}}


def test_a_python_exception_becomes_an_error_response_with_its_traceback(worker):
    worker.send({"id": 1, "op": "raise", "args": {"message": "boom"}})
    r = worker.read()
    assert r["id"] == 1 and r["ok"] is False
    assert r["error"]["type"] == "ValueError" and r["error"]["message"] == "boom"
    assert "Traceback" in r["error"]["traceback"] and "_op_raise" in r["error"]["traceback"]
    worker.send({"id": 2, "op": "ping"})
    assert worker.read()["ok"] is True  # the worker carries on


def test_an_unknown_op_and_a_line_that_is_not_json_get_error_responses(worker):
    worker.send({"id": 3, "op": "no_such_op"})
    r = worker.read()
    assert r["error"]["type"] == "UnknownOpError" and "ping" in r["error"]["message"]
    worker.send("{not json")
    r = worker.read()
    assert r["id"] is None and r["error"]["type"] == "BadRequestError"


def test_prints_go_to_stderr_and_never_onto_the_protocol(own_worker):
    worker = own_worker
    # the crash op prints a line with print(..., file=sys.stderr) and fd 1 is
    # stderr inside the worker: after it exits, stdout holds nothing more
    worker.send({"id": 4, "op": "crash", "args": {"code": 5}})
    assert worker.p.wait(timeout=30) == 5
    assert worker.p.stdout.read() == ""
    assert "crash op: exiting with code 5" in worker.p.stderr.read()


def test_print_inside_the_worker_process_lands_on_stderr():
    code = ("import sys; sys.argv=['w']; from mamba2_runner import worker as w; "
            "w.register_op('say', lambda a, e: print('hello from op') or 1); w.main()")
    p = subprocess.run([sys.executable, "-c", code], input='{"id": 1, "op": "say"}\n', capture_output=True,
                       text=True, env=dict(os.environ, PYTHONPATH=str(PYDIR)), timeout=60)
    lines = [json.loads(x) for x in p.stdout.splitlines()]
    assert lines[0]["event"] == "ready" and lines[1] == {"id": 1, "ok": True, "result": 1}
    assert "hello from op" in p.stderr


def test_the_op_table_has_lazy_entries_for_bench_and_sweep_point():
    from mamba2_runner import worker as w

    assert w.OPS["bench"] == "mamba2_runner.bench.cli:op_bench"
    mod, _, fn = w.OPS["bench"].partition(":")
    assert callable(getattr(importlib.import_module(mod), fn))
    assert w.OPS["sweep_point"] == "mamba2_runner.sweep:op_sweep_point"


def test_sleep_emits_a_progress_event_before_its_response(worker):
    worker.send({"id": 9, "op": "sleep", "args": {"seconds": 0.1}})
    ev = worker.read()
    assert ev == {"id": 9, "event": "progress", "data": {"sleeping": 0.1, "pid": worker.p.pid}}
    assert worker.read() == {"id": 9, "ok": True, "result": {"slept": 0.1}}


def test_env_reports_versions_and_what_to_fix(worker):
    worker.send({"id": 5, "op": "env"})
    r = worker.read()["result"]
    assert r["torch"] and r["triton"] and isinstance(r["fixes"], list)
    assert r["device"] in ("cpu", "cuda")


def test_the_worker_exits_cleanly_when_stdin_closes(own_worker):
    assert own_worker.close() == 0
