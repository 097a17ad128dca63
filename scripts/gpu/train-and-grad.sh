#!/usr/bin/env bash
# One device call for the training issue: gradient tests on the GPU (fp32 +
# bf16), the MQAR training check (generated vs reference backend, same seed),
# and a forward verify of the seed package with the current defaults.
set -u
cd "$(dirname "$0")/../.."
export PYTHONPATH=$PWD/packages/runner/python:$PWD/packages/kernels/python PYTHONUNBUFFERED=1
mkdir -p "$OUT/train"
timeout "${GRAD_TIMEOUT:-330}" python3 -m pytest -q -p no:cacheprovider --durations=8 \
  packages/kernels/python/tests/test_grad.py packages/runner/python/tests/test_module_grad.py > "$OUT/grad.log" 2>&1 &
g=$!
timeout 200 python3 -m mamba2_runner.verify kernels-out/mamba2_simple --device cuda --dtypes fp32,bf16 \
  --json "$OUT/verify-mamba2_simple.json" > "$OUT/verify-mamba2_simple.log" 2>&1 &
v=$!
timeout "${TRAIN_TIMEOUT:-330}" python3 -m mamba2_runner.train --pkg kernels-out/mamba2_simple \
  --out "$OUT/train" > "$OUT/train.log" 2>&1
wait $g $v
echo "-- verify"; tail -n 3 "$OUT/verify-mamba2_simple.log"
echo "-- grad"; tail -n 25 "$OUT/grad.log"
echo "-- train"; tail -n 25 "$OUT/train.log"
