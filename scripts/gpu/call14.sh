#!/usr/bin/env bash
# First device call of the 2026-12-01e session's second half (after call12 showed v5's one-launch
# chunk kernel reading out of bounds on the H200 and poisoning the sweep's check processes; v5 is
# removed and a check child now restarts after a fatal CUDA error). Carry .baseline.
#   - the kernel tests that call12 ran out of time on (its 120 s timeout killed two shards), verbose
#     so that each test's name and any assertion's numbers are in the log: two shards side by side;
#   - the issue 13 sweep (sweep13.sh STAGE=sweep) on today's kernels, with the incumbent, more budget.
# Packed into $OUT/call14.tar.gz (a call returns a limited number of files).
set -u
cd "$(dirname "$0")/../.."
export PYTHONPATH=$PWD/packages/runner/python:$PWD/packages/kernels/python PYTHONUNBUFFERED=1
R=$OUT/call14; mkdir -p "$R"; t0=$(date +%s); el() { echo "$(( $(date +%s) - t0 )) s"; }
{ nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.mem --format=csv
  python3 -c "import torch, triton, sys; print(sys.version.split()[0], torch.__version__, triton.__version__)"; } > "$R/env.txt" 2>&1
K=packages/kernels/python/tests
PT="python3 -m pytest -v -p no:cacheprovider -rfE --tb=short"
timeout 200 $PT $K/test_varlen.py $K/test_smem_fit.py $K/test_bwd_resets.py > "$R/pytest-a.log" 2>&1 &
timeout 200 $PT $K/test_cross_scan.py $K/test_bwd_ssd.py > "$R/pytest-b.log" 2>&1 &
wait; echo "pytest at $(el)"
mkdir -p "$R/sweep"
OUT=$R/sweep STAGE=sweep TIMEOUT=320 BUDGET=290 bash scripts/gpu/sweep13.sh > "$R/sweep13.log" 2>&1; echo "sweep13 rc=$? at $(el)"
tar -czf "$OUT/call14.tar.gz" -C "$OUT" call14
echo "== summary ($(el))"
for f in a b; do echo "-- pytest-$f"; grep -E "FAILED|ERROR|passed|failed" "$R/pytest-$f.log" | tail -n 12; done
tail -n 12 "$R/sweep13.log" | cut -c1-160
