#!/usr/bin/env bash
# python -m mamba2_runner.tuning with the repo's paths (the venv's python when there is one):
#   bash scripts/tuning.sh model --out bench/sweeps/h200/model.jsonl     (see mamba2_runner/tuning/__init__.py)
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
[ -x .venv/bin/python ] && PY=.venv/bin/python
export PYTHONPATH="$PWD/packages/runner/python:$PWD/packages/kernels/python${PYTHONPATH:+:$PYTHONPATH}"
exec "$PY" -m mamba2_runner.tuning "$@"
