#!/usr/bin/env bash
# Fourth device call of the 2026-12-01d session (after call9 showed the backward's Inf-dt masks cost
# 3-5% and the reset path moved off the common path). Carry .baseline, .pre-nan, .old-pkgs.
#   - the kernel tests that failed on cuda in call8 (tolerances now per device) and the non-finite /
#     backward tests of the new two-launch chunk kernels, three shards side by side;
#   - nan_cost: forward and fwd+bwd at the five BENCH ssd shapes vs .pre-nan and the pre-restructure
#     package, 3 rounds (issues 14 and 11);
#   - the issue 13 sweep (sweep13.sh STAGE=sweep) on today's kernels;
#   - scan_probe: the fused forward's launch variants at the cross-scan shapes (issue 12's slow forward).
# Everything is also packed into $OUT/call12.tar.gz (a call returns a limited number of files).
set -u
cd "$(dirname "$0")/../.."
export PYTHONPATH=$PWD/packages/runner/python:$PWD/packages/kernels/python PYTHONUNBUFFERED=1
R=$OUT/call12; mkdir -p "$R"; t0=$(date +%s); el() { echo "$(( $(date +%s) - t0 )) s"; }
{ nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.mem --format=csv
  python3 -c "import torch, triton, sys; print(sys.version.split()[0], torch.__version__, triton.__version__)"; } > "$R/env.txt" 2>&1
K=packages/kernels/python/tests
extra=$(ls $K/test_bwd_reset*.py $K/test_bwd_two*.py 2>/dev/null | tr '\n' ' ')
timeout 120 python3 -m pytest -q -p no:cacheprovider -rfE --tb=short $K/test_nonfinite.py > "$R/pytest-a.log" 2>&1 &
timeout 120 python3 -m pytest -q -p no:cacheprovider -rfE --tb=short $K/test_varlen.py $K/test_smem_fit.py $extra > "$R/pytest-b.log" 2>&1 &
timeout 120 python3 -m pytest -q -p no:cacheprovider -rfE --tb=short $K/test_cross_scan.py $K/test_bwd_ssd.py > "$R/pytest-c.log" 2>&1 &
wait; echo "pytest at $(el)"
timeout 100 python3 scripts/gpu/nan_cost.py --compare pre=.pre-nan --compare old=.old-pkgs/kernels-out/mamba2_simple --rounds 3 \
  --out "$R/nan_cost.json" > "$R/nan_cost.log" 2>&1; echo "nan_cost rc=$? at $(el)"
mkdir -p "$R/sweep"
OUT=$R/sweep STAGE=sweep TIMEOUT=225 BUDGET=195 bash scripts/gpu/sweep13.sh > "$R/sweep13.log" 2>&1; echo "sweep13 rc=$? at $(el)"
timeout $(( 575 - ($(date +%s) - t0) )) python3 scripts/gpu/scan_probe.py > "$R/scan_probe.log" 2>&1; echo "scan_probe rc=$? at $(el)"
tar -czf "$OUT/call12.tar.gz" -C "$OUT" call12
echo "== summary ($(el))"
for f in a b c; do echo "-- pytest-$f"; tail -n 8 "$R/pytest-$f.log"; done
tail -n 9 "$R/nan_cost.log"; tail -n 10 "$R/sweep13.log"; cat "$R/scan_probe.log" | grep -v Warning | tail -n 24
