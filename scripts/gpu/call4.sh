#!/usr/bin/env bash
# Last device call of the 2026-12-01b session: the non-finite forward's cost by variant (current
# reduce form, the dot form, sanitize-only, pre), the vision packages' GPU verify and the quadrant
# training check, the remaining cross-scan timings. Carry .baseline, .pre-nan, .variants.
set -u
cd "$(dirname "$0")/../.."
export PYTHONPATH=$PWD/packages/runner/python:$PWD/packages/kernels/python PYTHONUNBUFFERED=1
t0=$(date +%s); el() { echo "$(( $(date +%s) - t0 )) s"; }
timeout 110 python3 scripts/gpu/nan_cost.py --compare pre=.pre-nan --compare dot=.variants/dot/mamba2_kernels \
  --compare san=.variants/sanitize/mamba2_kernels --out "$OUT/nan_variants.json" > "$OUT/nan_variants.log" 2>&1; echo "nan rc=$? at $(el)"
for p in vision_mamba2 vision_mamba2_bidirectional; do
  timeout 85 python3 -m mamba2_runner.verify kernels-out/$p --device cuda --dtypes fp32,bf16 --json "$OUT/verify-$p.json" > "$OUT/verify-$p.log" 2>&1 &
done
timeout 85 python3 -m mamba2_runner.train_vision --pkg kernels-out/vision_mamba2 --steps 300 --batch 32 --out "$OUT/train_vision" > "$OUT/train_vision.log" 2>&1 &
wait; echo "vision rc at $(el)"
timeout 100 python3 scripts/gpu/crossscan_bench.py --cases 14x14 bidirectional --skip-checks --out "$OUT/crossscan2.json" > "$OUT/crossscan2.log" 2>&1; echo "crossscan rc=$? at $(el)"
echo "== summary ($(el))"
tail -n 9 "$OUT/nan_variants.log"
for p in vision_mamba2 vision_mamba2_bidirectional; do tail -n 2 "$OUT/verify-$p.log"; done
tail -n 6 "$OUT/train_vision.log"; tail -n 20 "$OUT/crossscan2.log"
