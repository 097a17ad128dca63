#!/usr/bin/env bash
# Device call of the 2026-12-01c session: the fused forward's two forms in ONE launch (the plain walk,
# then, only in a program that flags itself, the exact walk as a non-inlined call). On the GPU: its
# non-finite and bit-identity tests, then its forward and fwd+bwd time against .pre-nan (the code before
# the non-finite fix) and .v2launch (69fa87b: the same two forms
# as two launches); --quick (the first two shapes, one round: the device budget was nearly spent). Carry .pre-nan, .v2launch.
set -u
cd "$(dirname "$0")/../.."
export PYTHONPATH=$PWD/packages/runner/python:$PWD/packages/kernels/python PYTHONUNBUFFERED=1
R=$OUT; t0=$(date +%s); el() { echo "$(( $(date +%s) - t0 )) s"; }
{ nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.mem --format=csv
  python3 -c "import torch, triton, sys; print(sys.version.split()[0], torch.__version__, triton.__version__)"; } > "$R/env.txt" 2>&1
K=packages/kernels/python/tests
timeout 60 python3 -m pytest $K/test_fused_rerun.py $K/test_nonfinite.py -q -x -p no:cacheprovider \
  > "$R/pytest-cuda.log" 2>&1; echo "pytest rc=$? at $(el)"
timeout 75 python3 scripts/gpu/nan_cost.py --quick --compare pre=.pre-nan --compare two=.v2launch/mamba2_kernels \
  --out "$R/nan_cost.json" > "$R/nan_cost.log" 2>&1
echo "nan_cost rc=$? at $(el)"
echo "== summary ($(el))"
tail -n 3 "$R/pytest-cuda.log"; tail -n 9 "$R/nan_cost.log"
