#!/usr/bin/env bash
# Third device call of the 2026-12-01b session: issue 13's sweep stage, issue 12's cross-scan
# bench, issue 14's non-finite cost, and the compile profile. Carry .baseline, .pre-nan, .old-pkgs.
set -u
cd "$(dirname "$0")/../.."
export PYTHONPATH=$PWD/packages/runner/python:$PWD/packages/kernels/python PYTHONUNBUFFERED=1
t0=$(date +%s); el() { echo "$(( $(date +%s) - t0 )) s"; }
mkdir -p "$OUT/s13"
OUT=$OUT/s13 STAGE=sweep timeout 255 bash scripts/gpu/sweep13.sh > "$OUT/sweep13.log" 2>&1; echo "sweep13 rc=$? at $(el)"
timeout 165 python3 scripts/gpu/crossscan_bench.py --out "$OUT/crossscan.json" > "$OUT/crossscan.log" 2>&1; echo "crossscan rc=$? at $(el)"
timeout 100 python3 scripts/gpu/nan_cost.py --compare pre=.pre-nan --compare old=.old-pkgs/kernels-out/mamba2_simple \
  --out "$OUT/nan_cost.json" > "$OUT/nan_cost.log" 2>&1; echo "nan_cost rc=$? at $(el)"
timeout 40 python3 scripts/gpu/compile_profile.py > "$OUT/compile_profile.log" 2>&1; echo "compile_profile rc=$? at $(el)"
echo "== summary ($(el))"
tail -n 30 "$OUT/s13/summary.txt" 2>/dev/null || tail -n 30 "$OUT/sweep13.log"
echo "-- crossscan"; tail -n 25 "$OUT/crossscan.log"
echo "-- nan_cost"; tail -n 16 "$OUT/nan_cost.log"
echo "-- compile_profile"; grep "^==" "$OUT/compile_profile.log"
