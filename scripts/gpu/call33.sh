#!/usr/bin/env bash
# 2026-12-02c, the timed call (<= 560 s; carry .baseline .old-pkgs), one process at a time on the GPU:
#   1. crossscan_bench.py (issue 12's targets), bf16, no part-1 checks (call32 ran them: all ok; every timed
#      row is still checked first: output vs float64, fwd+bwd gradients vs mamba_ssm_perm's): four-way at
#      56x56 and 14x14, bidirectional (4, 4096, 80); providers generated (default merge, chain),
#      generated-buffer, mamba_ssm_perm, and unidirectional + the floor with the forward rows;
#   2. bench --mode fwd 'all' (BENCH_TARGETS' forward table) vs mamba_ssm / mamba_ssm_fused and the
#      pre-restructure package (issue 9: the forward must not regress; issue 11 done-when 3).
# Packed into $OUT/call33.tar.gz.
set -u
cd "$(dirname "$0")/../.."
export PYTHONPATH=$PWD/packages/runner/python:$PWD/packages/kernels/python PYTHONUNBUFFERED=1
R=$OUT/call33; mkdir -p "$R"; t0=$(date +%s); el() { echo "$(( $(date +%s) - t0 )) s"; }
nvidia-smi --query-gpu=name,clocks.sm,clocks.mem --format=csv > "$R/env.txt" 2>&1
git log -1 --format=%H >> "$R/env.txt" 2>/dev/null
timeout ${TCS:-270} python3 scripts/gpu/crossscan_bench.py --skip-checks --cases 56x56 14x14 bidirectional \
  --providers generated,generated-buffer,mamba_ssm_perm,unidirectional --out "$R/crossscan.json" > "$R/crossscan.log" 2>&1
echo "crossscan rc=$? at $(el)"
P=fused,mamba_ssm,generated,mamba_ssm_fused
timeout $(( ${END:-545} - ($(date +%s) - t0) )) python3 -m mamba2_runner.bench --mode fwd --configs all --providers=$P \
  --compare-pkg old=.old-pkgs --baseline=.baseline --budget-s $(( ${END:-545} - 25 - ($(date +%s) - t0) )) \
  --out "$R/bench-fwd.json" > "$R/bench-fwd.log" 2>&1
echo "fwd rc=$? at $(el)"
tar -czf "$OUT/call33.tar.gz" -C "$OUT" call33
echo "== summary ($(el))"
tail -n 16 "$R/crossscan.log" | cut -c1-200
grep -v "^\[bench\]" "$R/bench-fwd.log" | tail -n 24 | cut -c1-230
