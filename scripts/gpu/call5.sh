#!/usr/bin/env bash
# First device call of the 2026-12-01c session: the two-pass fused forward (plain walk + exact
# re-run of flagged programs). Its non-finite guarantees and bit-identity on the GPU (pytest on
# cuda), then its cost against the library before the non-finite fix (.pre-nan) and the one-pass
# exact walk it replaces (.prev = main at 313e4ea), forward and fwd+bwd at the BENCH ssd shapes.
# Carry .pre-nan and .prev.
set -u
cd "$(dirname "$0")/../.."
export PYTHONPATH=$PWD/packages/runner/python:$PWD/packages/kernels/python PYTHONUNBUFFERED=1
R=$OUT; t0=$(date +%s); el() { echo "$(( $(date +%s) - t0 )) s"; }
{ nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.mem --format=csv
  python3 -c "import torch, triton, sys; print(sys.version.split()[0], torch.__version__, triton.__version__)"; } > "$R/env.txt" 2>&1
K=packages/kernels/python/tests
timeout 170 python3 -m pytest $K/test_fused_rerun.py $K/test_nonfinite.py "$K/test_scan.py" -q -x -p no:cacheprovider \
  > "$R/pytest-cuda.log" 2>&1; echo "pytest rc=$? at $(el)"
timeout 200 python3 scripts/gpu/nan_cost.py --compare pre=.pre-nan --compare prev=.prev/mamba2_kernels \
  --out "$R/nan_cost.json" > "$R/nan_cost.log" 2>&1; echo "nan_cost rc=$? at $(el)"
echo "== summary ($(el))"
tail -n 4 "$R/pytest-cuda.log"; tail -n 16 "$R/nan_cost.log"
