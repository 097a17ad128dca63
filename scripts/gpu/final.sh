#!/usr/bin/env bash
# The closing device call: verify every package (fp32 + bf16), the GPU cases of
# the scan / ops / gradient tests, then on an otherwise idle GPU the forward
# benchmark and the forward+backward benchmark against the incumbent (SSD:
# mamba_ssm; block: mamba_ssm and its fused path mamba_ssm_fused, which needs
# .baseline/causal_conv1d_cuda.so). Results in $OUT (results.tar.gz + the bench
# JSONs); summary last.
#   STAGE=checks | bench | all (default all; a command has 10 minutes)
#   COMPARE_PKG=old=DIR   also time an old build side by side (fused@old, generated@old;
#                         DIR holds kernels-out/ and bench/pkgs/ of the old commit)
set -u
STAGE=${STAGE:-all}
cd "$(dirname "$0")/../.."
export PYTHONPATH=$PWD/packages/runner/python:$PWD/packages/kernels/python PYTHONUNBUFFERED=1
R=$(mktemp -d)/results; mkdir -p "$R"
t0=$(date +%s)
{ nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.mem --format=csv
  python3 -c "import torch, triton, sys; print(sys.version.split()[0], torch.__version__, triton.__version__)"; } > "$R/env.txt" 2>&1
if [ "$STAGE" != bench ]; then
for d in kernels-out/*/ bench/pkgs/bench_block_1536/; do
  n=$(basename "$d")
  timeout 230 python3 -m mamba2_runner.verify "$d" --device cuda --dtypes fp32,bf16 \
    --json "$R/verify-$n.json" > "$R/verify-$n.log" 2>&1 &
done
timeout 260 python3 -m pytest -q -p no:cacheprovider packages/kernels/python/tests/test_scan.py \
  packages/kernels/python/tests/test_ops.py packages/kernels/python/tests/test_grad.py packages/runner/python/tests/test_module_grad.py > "$R/pytest.log" 2>&1 &
wait
echo "checks done at $(( $(date +%s) - t0 )) s"
fi
if [ "$STAGE" != checks ]; then
BP="--block-pkgs 1536=bench/pkgs/bench_block_1536,2560=bench/pkgs/bench_block_2560"
CMP=${COMPARE_PKG:+--compare-pkg $COMPARE_PKG}
timeout 200 python3 -m mamba2_runner.bench --budget-s 170 $BP $CMP \
  --providers fused,chunked,torch,mamba_ssm,mamba_ssm_fused --out "$OUT/bench-fwd.json" > "$R/bench-fwd.log" 2>&1
echo "fwd bench done at $(( $(date +%s) - t0 )) s"
timeout 200 python3 -m mamba2_runner.bench --mode fwdbwd --providers fused,torch,mamba_ssm,mamba_ssm_fused \
  --budget-s 160 $BP $CMP --out "$OUT/bench-fwdbwd.json" > "$R/bench-fwdbwd.log" 2>&1
echo "fwdbwd bench done at $(( $(date +%s) - t0 )) s"
fi
tar -czf "$OUT/results-$STAGE.tar.gz" -C "$(dirname "$R")" results
echo "== summary ($(( $(date +%s) - t0 )) s)"
for f in "$R"/verify-*.log; do [ -f "$f" ] && tail -n 1 "$f"; done
[ -f "$R/pytest.log" ] && tail -n 3 "$R/pytest.log"
for f in bench-fwd bench-fwdbwd; do
  [ -f "$R/$f.log" ] && { echo "-- $f"; grep -A40 "^config" "$R/$f.log" | head -n 24; }
done
