"""The runner's Python worker: JSON lines over stdin/stdout.

    python -m mamba2_runner.worker

Protocol (docs/ARCHITECTURE.md): the first line on stdout is
`{"event": "ready", "python", "torch", "triton", "cuda", "gpu"}`; then one
response per request `{"id", "ok": true, "result"}` or
`{"id", "ok": false, "error": {"type", "message", "traceback"}}`, preceded by
zero or more `{"id", "event": "progress", "data"}`.

The protocol owns file descriptor 1: at start-up the worker moves the real
stdout to a private descriptor and points fd 1 (and sys.stdout) at stderr, so a
stray print, a Triton compile log or a C library's printf can never corrupt the
stream.

Ops are looked up in `OPS`: a name maps to a function `(args, emit) -> result`
or to a "module:function" string imported on first use, so `bench` and
`sweep_point` (in their own modules) cost nothing until called. Add an op with
`register_op(name, fn_or_path)` or one line in `OPS`.
"""
from __future__ import annotations

import importlib
import json
import math
import os
import platform
import sys
import threading
import time
import traceback
from typing import Any, Callable, Dict, Union

Emit = Callable[[Dict[str, Any]], None]
OpFn = Callable[[Dict[str, Any], Emit], Any]


class UnknownOpError(LookupError):
    pass


class BadRequestError(ValueError):
    pass


def _op_ping(args: dict, emit: Emit) -> Any:
    return {"pong": True, "pid": os.getpid(), "echo": args.get("echo")}


def _op_sleep(args: dict, emit: Emit) -> Any:
    """Tests: sleep `seconds`, emitting a progress event first (so the caller
    knows the request is running)."""
    seconds = float(args.get("seconds", 1.0))
    emit({"sleeping": seconds, "pid": os.getpid()})
    time.sleep(seconds)
    return {"slept": seconds}


def _op_crash(args: dict, emit: Emit) -> Any:
    """Tests: die at once with `code` (default 3), after a line on stderr."""
    code = int(args.get("code", 3))
    print(f"crash op: exiting with code {code}", file=sys.stderr, flush=True)
    os._exit(code)


def _op_raise(args: dict, emit: Emit) -> Any:
    """Tests: raise a Python exception with `message`."""
    raise ValueError(args.get("message", "raised on request"))


def environment() -> dict:
    """Versions, CUDA, GPU and what to fix; never raises."""
    info: Dict[str, Any] = {
        "python": platform.python_version(),
        "executable": sys.executable,
        "torch": None,
        "triton": None,
        "cuda": None,
        "cuda_available": False,
        "gpu": None,
        "capability": None,
        "triton_interpret": os.environ.get("TRITON_INTERPRET") == "1",
        "device": "cpu",
        "fixes": [],
    }
    fixes = info["fixes"]
    if sys.version_info < (3, 10):
        fixes.append(f"Python {info['python']} is too old: use Python 3.10+ (bash scripts/setup-python.sh).")
    try:
        import torch

        info["torch"] = torch.__version__
        info["cuda"] = torch.version.cuda
        info["cuda_available"] = bool(torch.cuda.is_available())
        if info["cuda_available"]:
            info["gpu"] = torch.cuda.get_device_name(0)
            info["capability"] = list(torch.cuda.get_device_capability(0))
            if not info["triton_interpret"]:
                info["device"] = "cuda"
            if info["capability"][0] < 8:
                fixes.append(
                    f"GPU {info['gpu']} has compute capability {info['capability']}: the kernels need 8.0+ "
                    "(Ampere or newer) for bf16 tl.dot; fp32 may still work."
                )
        elif info["cuda"] is None:
            fixes.append("torch is a CPU build: kernels run under Triton's interpreter (slow). "
                         "For a GPU, install a CUDA build of torch.")
        else:
            fixes.append(f"torch was built for CUDA {info['cuda']} but no GPU is visible: check nvidia-smi "
                         "and CUDA_VISIBLE_DEVICES. Kernels will run under Triton's interpreter.")
    except Exception as e:  # noqa: BLE001 - the report is the point
        fixes.append(f"torch does not import ({type(e).__name__}: {e}): run bash scripts/setup-python.sh")
    try:
        import triton

        info["triton"] = triton.__version__
    except Exception as e:  # noqa: BLE001
        fixes.append(f"triton does not import ({type(e).__name__}: {e}): run bash scripts/setup-python.sh")
    return info


def _op_env(args: dict, emit: Emit) -> Any:
    return environment()


OPS: Dict[str, Union[OpFn, str]] = {
    "ping": _op_ping,
    "env": _op_env,
    "sleep": _op_sleep,
    "crash": _op_crash,
    "raise": _op_raise,
    "verify": "mamba2_runner.verify:op_verify",
    "bench": "mamba2_runner.bench.cli:op_bench",
    "sweep_point": "mamba2_runner.sweep:op_sweep_point",
}


def register_op(name: str, fn: Union[OpFn, str]) -> None:
    OPS[name] = fn


def resolve_op(name: str) -> OpFn:
    if name not in OPS:
        raise UnknownOpError(f"unknown op {name!r}; the worker knows {sorted(OPS)}. "
                             "Add it to OPS in mamba2_runner/worker.py.")
    fn = OPS[name]
    if isinstance(fn, str):
        mod_name, _, attr = fn.partition(":")
        fn = getattr(importlib.import_module(mod_name), attr)
        OPS[name] = fn
    return fn


def _json_safe(v: Any) -> Any:
    """NaN/inf are not JSON: send them as strings so the TS side can parse the line."""
    if isinstance(v, float) and not math.isfinite(v):
        return "nan" if math.isnan(v) else ("inf" if v > 0 else "-inf")
    if isinstance(v, dict):
        return {str(k): _json_safe(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_json_safe(x) for x in v]
    if isinstance(v, (str, int, float, bool)) or v is None:
        return v
    if hasattr(v, "tolist"):
        return _json_safe(v.tolist())
    return str(v)


class Channel:
    """Writes protocol lines to the private stdout, one whole line at a time."""

    def __init__(self, stream):
        self._stream = stream
        self._lock = threading.Lock()

    def send(self, msg: Dict[str, Any]) -> None:
        line = json.dumps(_json_safe(msg), allow_nan=False)
        with self._lock:
            self._stream.write(line + "\n")
            self._stream.flush()


def _take_stdout():
    """Return a text stream on the real stdout; fd 1 and sys.stdout become stderr."""
    sys.stdout.flush()
    proto_fd = os.dup(1)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    return os.fdopen(proto_fd, "w", buffering=1, encoding="utf-8")


def handle(chan: Channel, line: str) -> None:
    rid = None
    try:
        try:
            req = json.loads(line)
        except json.JSONDecodeError as e:
            raise BadRequestError(f"request is not JSON ({e}): {line[:200]!r}") from None
        if not isinstance(req, dict) or "op" not in req:
            raise BadRequestError(f'request must be an object with "id" and "op": {line[:200]!r}')
        rid = req.get("id")
        args = req.get("args") or {}
        fn = resolve_op(str(req["op"]))

        def emit(data: Dict[str, Any], _rid=rid) -> None:
            chan.send({"id": _rid, "event": "progress", "data": data})

        result = fn(args, emit)
        chan.send({"id": rid, "ok": True, "result": result})
    except Exception as e:  # noqa: BLE001 - every failure becomes an error response
        chan.send({
            "id": rid,
            "ok": False,
            "error": {"type": type(e).__name__, "message": str(e), "traceback": traceback.format_exc()},
        })


def main() -> int:
    proto = _take_stdout()
    chan = Channel(proto)
    # Pick the backend before anything imports a generated package: on a
    # machine without CUDA this turns on Triton's interpreter.
    try:
        from .pkgload import select_device

        select_device()
    except Exception:  # noqa: BLE001 - torch missing: the ready line says so
        pass
    env = environment()
    chan.send({
        "event": "ready", "python": env["python"], "torch": env["torch"], "triton": env["triton"],
        "cuda": env["cuda"] if env["cuda_available"] else None, "gpu": env["gpu"], "device": env["device"],
        "pid": os.getpid(),
        "missing": [m for m in ("torch", "triton") if env[m] is None],
        "fixes": env["fixes"],
    })
    for line in sys.stdin:
        line = line.strip()
        if line:
            handle(chan, line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
