#!/usr/bin/env bash
# First device call of the 2026-12-01d session: correctness only (nothing here is timed, so the
# jobs run side by side on the machine's 16 cores and one GPU). Carry .baseline.
#   - verify: every generated package, fp32 + bf16, gradients on (issue 11 done-when 1, 12's verify);
#   - the kernel library's tests on CUDA (issues 9, 12, 14: gradients at every option, the >2^31 row,
#     non-finite inputs, the cross scans, decode), in four shards of files side by side;
#   - the MQAR training check (issue 9 done-when 3) and the quadrant task (issue 12 done-when 2);
#   - decode correctness (--quick) and the incumbent interop check without benchmarks (issue 10:
#     weights both ways, logits, greedy tokens incl. the peaked-logit LM);
#   - the cross scans' small-shape correctness on cuda, fp32 + bf16, K = 2 and 4 (issue 12), which also
#     fills Triton's cache for call9's timings.
# Logs and JSON land in $OUT; a summary is printed last.
set -u
cd "$(dirname "$0")/../.."
export PYTHONPATH=$PWD/packages/runner/python:$PWD/packages/kernels/python PYTHONUNBUFFERED=1
R=$OUT; t0=$(date +%s); el() { echo "$(( $(date +%s) - t0 )) s"; }
{ nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.mem --format=csv
  python3 -c "import torch, triton, sys; print(sys.version.split()[0], torch.__version__, triton.__version__)"; } > "$R/env.txt" 2>&1
K=packages/kernels/python/tests
SHARDS=("test_scan test_fragments" "test_grad test_bwd_ssd test_bwd_large"
        "test_cross_scan test_nonfinite test_fused_rerun test_smem_fit test_conv2d"
        "test_decode test_decode_lm test_ops test_varlen test_compile")
for i in 0 1 2 3; do
  files=""; for f in ${SHARDS[$i]}; do files="$files $K/$f.py"; done
  timeout 330 python3 -m pytest -q -p no:cacheprovider -rfE --tb=short $files > "$R/pytest-kernels-$i.log" 2>&1 &
done
for d in kernels-out/*/ bench/pkgs/*/; do
  n=$(basename "$d")
  timeout 330 python3 -m mamba2_runner.verify "$d" --device cuda --dtypes fp32,bf16 \
    --json "$R/verify-$n.json" > "$R/verify-$n.log" 2>&1 &
done
timeout 330 python3 -m mamba2_runner.train --pkg kernels-out/mamba2_simple --out "$R/train" > "$R/train.log" 2>&1 &
timeout 330 python3 -m mamba2_runner.train_vision --pkg kernels-out/vision_mamba2 --steps 300 --batch 32 \
  --out "$R/train_vision" > "$R/train_vision.log" 2>&1 &
timeout 330 python3 scripts/gpu/decode_check.py --quick > "$R/decode-quick.log" 2>&1 &
timeout 320 python3 scripts/gpu/interop_check.py --no-bench > "$R/interop.log" 2>&1 &
timeout 320 python3 scripts/gpu/crossscan_bench.py --cases none-timed --out "$R/crossscan-checks.json" > "$R/crossscan-checks.log" 2>&1 &
wait
echo "== summary ($(el))"
for f in "$R"/verify-*.log; do echo "$(basename "$f"): $(tail -n 1 "$f")"; done
for f in pytest-kernels-0 pytest-kernels-1 pytest-kernels-2 pytest-kernels-3 train train_vision decode-quick; do echo "-- $f"; tail -n 6 "$R/$f.log"; done
echo "-- crossscan checks"; tail -n 4 "$R/crossscan-checks.log"
echo "-- interop"; tail -n 22 "$R/interop.log"
