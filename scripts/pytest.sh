#!/usr/bin/env bash
# The runner's Python tests with the repo venv (bash scripts/setup-python.sh
# creates it). Extra arguments go to pytest: bash scripts/pytest.sh -k verify
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
[ -x "$PY" ] || { echo "no .venv: run bash scripts/setup-python.sh first" >&2; exit 1; }
export PYTHONPATH="packages/runner/python${PYTHONPATH:+:$PYTHONPATH}"
exec "$PY" -m pytest packages/runner/python/tests "$@"
