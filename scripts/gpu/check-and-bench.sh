#!/usr/bin/env bash
# One device call (scripts/gpu/README.md): verify every generated package on
# the GPU (fp32 + bf16), run the GPU cases of pytest, then the benchmark
# alone on an otherwise idle GPU. Everything lands in $OUT/results.tar.gz;
# a short summary is printed last.
set -u
cd "$(dirname "$0")/../.."
export PYTHONPATH=$PWD/packages/runner/python:$PWD/packages/kernels/python PYTHONUNBUFFERED=1
R=$(mktemp -d)/results; mkdir -p "$R"
{ nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.mem --format=csv
  python3 -c "import torch, triton, sys; print(sys.version.split()[0], torch.__version__, triton.__version__)"
  git rev-parse HEAD 2>/dev/null || true; } > "$R/env.txt" 2>&1
cat "$R/env.txt"
start=$(date +%s)
pids=()
for d in kernels-out/*/ bench/pkgs/bench_block_1536/; do
  n=$(basename "$d")
  timeout "${VERIFY_TIMEOUT:-330}" python3 -m mamba2_runner.verify "$d" --device cuda --dtypes fp32,bf16 \
    --json "$R/verify-$n.json" > "$R/verify-$n.log" 2>&1 &
  pids+=($!)
done
timeout "${PYTEST_TIMEOUT:-330}" python3 -m pytest -q -p no:cacheprovider \
  packages/kernels/python/tests/test_scan.py packages/kernels/python/tests/test_ops.py \
  packages/runner/python/tests/test_reference.py > "$R/pytest.log" 2>&1 &
pids+=($!)
for p in "${pids[@]}"; do wait "$p"; done
echo "checks done in $(( $(date +%s) - start )) s"
if [ "${SKIP_BENCH:-0}" != 1 ]; then
  timeout "${BENCH_TIMEOUT:-240}" python3 -m mamba2_runner.bench --budget-s "${BENCH_BUDGET:-200}" \
    --block-pkgs 1536=bench/pkgs/bench_block_1536,2560=bench/pkgs/bench_block_2560 \
    --out "$R/bench.json" > "$R/bench.log" 2>&1
fi
tar -czf "$OUT/results.tar.gz" -C "$(dirname "$R")" results
cp "$R/bench.json" "$OUT/" 2>/dev/null
echo "== summary"
for f in "$R"/verify-*.log; do echo "-- $(basename "$f")"; tail -n 4 "$f"; done
echo "-- pytest"; tail -n 6 "$R/pytest.log"
echo "-- bench"; tail -n 45 "$R/bench.log" 2>/dev/null
