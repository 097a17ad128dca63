#!/usr/bin/env bash
# One device call: re-verify the given packages on the GPU, then run a sweep
# plan (resumable) under a time budget. Results in $OUT.
#   bash scripts/gpu/sweep.sh <plan.json> [pkg dirs to verify first...]
set -u
cd "$(dirname "$0")/../.."
export PYTHONPATH=$PWD/packages/runner/python PYTHONUNBUFFERED=1
plan=$1; shift
for d in "$@"; do
  n=$(basename "$d")
  timeout 200 python3 -m mamba2_runner.verify "$d" --device cuda --dtypes fp32,bf16 --json "$OUT/verify-$n.json" > "$OUT/verify-$n.log" 2>&1 &
done
wait
for d in "$@"; do tail -n 2 "$OUT/verify-$(basename "$d").log"; done
res=$(dirname "$plan")/results.jsonl
cp "$res" "$OUT/results.jsonl" 2>/dev/null || true
timeout "${SWEEP_TIMEOUT:-420}" python3 -m mamba2_runner.sweep run --plan "$plan" --out "$OUT/results.jsonl" \
  --resume --budget-s "${SWEEP_BUDGET:-380}" 2>&1 | tail -n 40
wc -l "$OUT/results.jsonl"
