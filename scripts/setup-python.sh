#!/usr/bin/env bash
# Create the Python environment the runner uses: .venv at the repo root with
# torch 2.13.0 and triton 3.6.0 (pinned: the kernels are tested against these),
# pytest (+ pytest-xdist: CI runs the tests on every core) and numpy.
# Idempotent: re-running skips whatever is already there.
#   bash scripts/setup-python.sh            (PYTHON=python3.12 to pick the interpreter)
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=.venv
PY="${PYTHON:-python3}"

if [ ! -x "$VENV/bin/python" ]; then
  command -v "$PY" >/dev/null 2>&1 || { echo "setup-python: $PY not found; install Python 3.10+ or set PYTHON=/path/to/python3" >&2; exit 1; }
  "$PY" -c 'import sys; sys.exit(sys.version_info < (3, 10))' || { echo "setup-python: $("$PY" --version) is too old; need Python 3.10+ (set PYTHON=...)" >&2; exit 1; }
  echo "==> creating $VENV with $("$PY" --version)" >&2
  "$PY" -m venv "$VENV"
fi

need=()
"$VENV/bin/python" - <<'PYEOF' || need+=("torch==2.13.0")
import torch, sys
sys.exit(0 if torch.__version__.split("+")[0] == "2.13.0" else 1)
PYEOF
"$VENV/bin/python" -c 'import triton, sys; sys.exit(triton.__version__ != "3.6.0")' 2>/dev/null || need+=("triton==3.6.0")
"$VENV/bin/python" -c 'import pytest' 2>/dev/null || need+=("pytest")
"$VENV/bin/python" -c 'import xdist' 2>/dev/null || need+=("pytest-xdist")
"$VENV/bin/python" -c 'import numpy' 2>/dev/null || need+=("numpy")

if [ ${#need[@]} -gt 0 ]; then
  echo "==> pip install ${need[*]}" >&2
  # --no-compile: pip byte-compiles all ~6,500 files of the ~1.5 GB on one core
  # (40 of its 60 s on a 2-core machine), and compileall of everything costs
  # ~37 s of CPU there too. Byte-code is written below for what the runner and
  # the tests import (a third of the files, ~16 s of CPU), which every later
  # process (pytest workers, the runner's workers, ~100 in CI) then reads.
  "$VENV/bin/python" -m pip install --quiet --no-compile "${need[@]}"
  # Byte-compile what gets imported by importing it once, with .pyc writing on
  # even where the environment turns it off (PYTHONDONTWRITEBYTECODE, as some CI
  # machines set; then nothing else would write them and every process would
  # compile torch again).
  env -u PYTHONDONTWRITEBYTECODE "$VENV/bin/python" -c '
import torch, triton, triton.runtime.interpreter, numpy, torch._dynamo, torch.distributed.run
import torch.testing._internal.optests' >/dev/null 2>&1 || true
  env -u PYTHONDONTWRITEBYTECODE "$VENV/bin/python" -m pytest --help >/dev/null 2>&1 || true
fi
"$VENV/bin/python" -c 'import torch, triton; print(f"python env ok: torch {torch.__version__}, triton {triton.__version__}, cuda {torch.cuda.is_available()}")'
