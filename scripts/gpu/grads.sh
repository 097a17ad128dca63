#!/usr/bin/env bash
# One short device call: verify's gradient rows for every example on the GPU (fp32 + bf16).
set -u
cd "$(dirname "$0")/../.."
export PYTHONPATH=$PWD/packages/runner/python PYTHONUNBUFFERED=1
for d in kernels-out/*/; do
  n=$(basename "$d")
  timeout "${GRADS_TIMEOUT:-120}" python3 -m mamba2_runner.verify "$d" --device cuda --dtypes fp32,bf16 --ops grads \
    --json "$OUT/grads-$n.json" > "$OUT/grads-$n.log" 2>&1 &
done
wait
for d in kernels-out/*/; do tail -n 1 "$OUT/grads-$(basename "$d").log"; done
