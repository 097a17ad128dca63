#!/usr/bin/env bash
# The closing device calls of the 2026-12-01 session, in two stages (a command
# has 10 minutes):
#   STAGE=checks  builds causal-conv1d's extension in the background (returned
#                 as $OUT/causal_conv1d_cuda.so for the bench stage to carry),
#                 verifies every generated package (fp32 + bf16, gradients on),
#                 runs the kernel library's tests on the GPU, and the decode
#                 correctness check.
#   STAGE=bench   forward and forward+backward benchmarks against the incumbent
#                 (mamba_ssm Triton kernels + causal-conv1d), each row checked
#                 first, with the package generated before this session's
#                 restructure (.old-pkgs, carried) side by side as @old; decode
#                 and torch.compile timings.
# Everything lands in $OUT/results-$STAGE.tar.gz; a summary is printed last.
set -u
STAGE=${STAGE:-checks}
cd "$(dirname "$0")/../.."
export PYTHONPATH=$PWD/packages/runner/python:$PWD/packages/kernels/python PYTHONUNBUFFERED=1
R=$(mktemp -d)/results-$STAGE; mkdir -p "$R"
t0=$(date +%s)
el() { echo "$(( $(date +%s) - t0 )) s"; }
{ nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.mem --format=csv
  python3 -c "import torch, triton, sys; print(sys.version.split()[0], torch.__version__, triton.__version__)"
  git log -1 --format='%H %s' 2>/dev/null; } > "$R/env.txt" 2>&1

if [ "$STAGE" = checks ]; then
  if [ ! -f .baseline/causal_conv1d_cuda.so ]; then
    rm -f /tmp/cc1d/lock
    (cd .baseline && MAX_JOBS=10 timeout 380 python3 build_causal_conv1d.py causal-conv1d --out "$OUT" > "$R/cc1d.log" 2>&1) &
  fi
  for d in kernels-out/*/ bench/pkgs/*/; do
    n=$(basename "$d")
    timeout 300 python3 -m mamba2_runner.verify "$d" --device cuda --dtypes fp32,bf16 \
      --json "$R/verify-$n.json" > "$R/verify-$n.log" 2>&1 &
  done
  K=packages/kernels/python/tests
  timeout 330 python3 -m pytest -q -p no:cacheprovider $K/test_bwd_large.py $K/test_grad.py $K/test_bwd_ssd.py \
    $K/test_decode.py $K/test_scan.py $K/test_ops.py $K > "$R/pytest-kernels.log" 2>&1 &
  timeout 300 python3 -m mamba2_runner.train --pkg kernels-out/mamba2_simple --out "$R/train" > "$R/train.log" 2>&1 &
  timeout 200 python3 scripts/gpu/decode_check.py --quick > "$R/decode-quick.log" 2>&1 &
  wait
  echo "checks done at $(el)"
  # a one-minute smoke of the bench (every provider, both modes, the old package beside)
  timeout 110 python3 -m mamba2_runner.bench --configs ssd-B2-L128-H8,block-D256-B2-L128 --mode both \
    --compare-pkg old=.old-pkgs --baseline=.baseline --no-graph --out "$R/bench-smoke.json" > "$R/bench-smoke.log" 2>&1
  echo "smoke done at $(el)"
else
  K=packages/kernels/python/tests
  timeout 70 python3 -m pytest -q -p no:cacheprovider -rfE --tb=short $K/test_decode.py $K/test_nonfinite.py \
    "$K/test_grad.py::test_norm_gradients_match_autograd_through_a_float64_norm" > "$R/pytest-rerun.log" 2>&1
  timeout 40 python3 scripts/gpu/host_overhead.py kernels-out/mamba2_simple .old-pkgs/kernels-out/mamba2_simple > "$R/host.log" 2>&1
  echo "rerun + host done at $(el)"
  BL=--baseline=.baseline
  FWD=ssd-B2-L128-H8,ssd-B8-L2048-H64,ssd-B4-L4096-H80,ssd-B4-L4096-H80-z,ssd-B1-L16384-H80,ssd-B4-L4096-H64-G8,block-D256-B2-L128,block-D1536-B8-L2048,block-D2560-B4-L4096
  FB=ssd-B2-L128-H8-fb,ssd-B8-L2048-H64-fb,ssd-B4-L4096-H80-fb,ssd-B4-L4096-H64-G8-fb,block-D256-B2-L128-fb,block-D1536-B8-L2048-fb,block-D2560-B4-L4096-fb
  timeout 150 python3 -m mamba2_runner.bench --mode fwd --configs $FWD --compare-pkg old=.old-pkgs --budget-s 125 $BL \
    --out "$R/bench-fwd.json" > "$R/bench-fwd.log" 2>&1
  echo "fwd done at $(el)"
  timeout 160 python3 -m mamba2_runner.bench --mode fwdbwd --configs $FB --compare-pkg old=.old-pkgs --budget-s 135 $BL \
    --out "$R/bench-fwdbwd.json" > "$R/bench-fwdbwd.log" 2>&1
  echo "fwdbwd done at $(el)"
fi
cp "$R"/*.json "$OUT/" 2>/dev/null; rm -f "$OUT"/verify-*.json
tar -czf "$OUT/results-$STAGE.tar.gz" -C "$(dirname "$R")" "results-$STAGE"
echo "== summary ($(el))"
for f in "$R"/verify-*.log; do [ -f "$f" ] && tail -n 1 "$f"; done
for f in pytest-kernels decode-quick train cc1d bench-smoke; do [ -f "$R/$f.log" ] && { echo "-- $f"; tail -n 3 "$R/$f.log"; }; done
for f in pytest-rerun host; do [ -f "$R/$f.log" ] && { echo "-- $f"; tail -n 25 "$R/$f.log"; }; done
for f in bench-fwd bench-fwdbwd; do [ -f "$R/$f.log" ] && { echo "-- $f"; tail -n 40 "$R/$f.log"; }; done
