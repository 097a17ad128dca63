#!/usr/bin/env bash
# The Python tests with the repo venv (bash scripts/setup-python.sh creates it):
# the kernel library's (packages/kernels/python/tests) and the runner's
# (packages/runner/python/tests). Extra arguments go to pytest; when they name
# test files or folders, only those run:
#   bash scripts/pytest.sh -k verify
#   bash scripts/pytest.sh packages/kernels/python/tests/test_scan.py -x -q
# One seed for the whole run (both trees' conftests read MAMBA2_SEED).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
[ -x "$PY" ] || { echo "no .venv: run bash scripts/setup-python.sh first" >&2; exit 1; }
export PYTHONPATH="packages/runner/python:packages/kernels/python${PYTHONPATH:+:$PYTHONPATH}"
export MAMBA2_SEED="${MAMBA2_SEED:-$(( (RANDOM << 15) | RANDOM ))}"
paths=()
for a in "$@"; do
  case "$a" in
    -*) ;;
    *) [ -e "${a%%::*}" ] && paths+=("$a") ;;
  esac
done
if [ ${#paths[@]} -eq 0 ]; then
  set -- packages/kernels/python/tests packages/runner/python/tests "$@"
fi
exec "$PY" -m pytest "$@"
