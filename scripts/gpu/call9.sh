#!/usr/bin/env bash
# Second device call of the 2026-12-01d session: timings, one job at a time. Carry .baseline, .pre-nan, .old-pkgs.
#   - bwd_bench: backward v4 against v5s (both NaN-exact now), SSD fwd+bwd at issue 9's six shapes
#     against mamba_ssm's mamba_chunk_scan_combined, peak memory, gradients checked first (issue 9);
#   - nan_cost: the non-finite handling's cost, forward and fwd+bwd at the five BENCH ssd shapes,
#     against .pre-nan (the library before it) and .old-pkgs (the package generated before the
#     restructure, issue 11 done-when 3), 5 rounds interleaved (issue 14);
#   - crossscan_bench: four-way and bidirectional scans, fwd and fwd+bwd, against mamba_ssm_perm
#     (its small-shape correctness part ran in call8) (issue 12).
set -u
cd "$(dirname "$0")/../.."
export PYTHONPATH=$PWD/packages/runner/python:$PWD/packages/kernels/python PYTHONUNBUFFERED=1
R=$OUT; t0=$(date +%s); el() { echo "$(( $(date +%s) - t0 )) s"; }
{ nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.mem --format=csv
  python3 -c "import torch, triton, sys; print(sys.version.split()[0], torch.__version__, triton.__version__)"; } > "$R/env.txt" 2>&1
timeout 185 python3 scripts/gpu/bwd_bench.py --variants v4-q32w8,v5s-q32w8 --out "$R/bwd" > "$R/bwd_bench.log" 2>&1
echo "bwd_bench rc=$? at $(el)"
timeout 110 python3 scripts/gpu/nan_cost.py --compare pre=.pre-nan --compare old=.old-pkgs/kernels-out/mamba2_simple --rounds 5 --out "$R/nan_cost.json" \
  > "$R/nan_cost.log" 2>&1; echo "nan_cost rc=$? at $(el)"
timeout $(( 575 - ($(date +%s) - t0) )) python3 scripts/gpu/crossscan_bench.py --skip-checks --out "$R/crossscan.json" \
  > "$R/crossscan.log" 2>&1; echo "crossscan rc=$? at $(el)"
echo "== summary ($(el))"
tail -n 22 "$R/bwd_bench.log"; tail -n 9 "$R/nan_cost.log"; tail -n 26 "$R/crossscan.log"
