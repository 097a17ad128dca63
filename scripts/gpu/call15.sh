#!/usr/bin/env bash
# Last device call of the 2026-12-01e session (budget ~380 s). Carry .baseline.
#   - test_varlen's two prefill tests (call14: the reference got CUDA weights; fixed) and
#     reset_diag.py (call14: test_bwd_resets' Inf-dt case, dz two-launch vs exact form, on CUDA);
#   - issue 13: the tuned package (bench/pkgs-tuned, from bench/sweeps/h200/kernels.jsonl of call14)
#     and the default side by side on every swept forward shape (sweep13.sh STAGE=tuned);
#   - issue 9: block forward+backward vs mamba_ssm's fused block with causal-conv1d.
# Packed into $OUT/call15.tar.gz.
set -u
cd "$(dirname "$0")/../.."
export PYTHONPATH=$PWD/packages/runner/python:$PWD/packages/kernels/python PYTHONUNBUFFERED=1
R=$OUT/call15; mkdir -p "$R"; t0=$(date +%s); el() { echo "$(( $(date +%s) - t0 )) s"; }
K=packages/kernels/python/tests
timeout 90 python3 -m pytest -v -p no:cacheprovider -rfE --tb=short $K/test_varlen.py -k prefill > "$R/pytest-varlen.log" 2>&1 &
( TRITON_INTERPRET=1 CUDA_VISIBLE_DEVICES= timeout 80 python3 scripts/gpu/reset_diag.py --save /tmp/rd-cpu.pt > "$R/reset_diag_cpu.log" 2>&1
  timeout 60 python3 scripts/gpu/reset_diag.py --cpu /tmp/rd-cpu.pt > "$R/reset_diag.log" 2>&1 ) &
wait; echo "tests at $(el)"
mkdir -p "$R/tuned"
OUT=$R/tuned STAGE=tuned TIMEOUT=85 bash scripts/gpu/sweep13.sh > "$R/tuned.log" 2>&1; echo "tuned rc=$? at $(el)"
timeout $(( 350 - ($(date +%s) - t0) )) python3 -m mamba2_runner.bench --mode fwdbwd \
  --configs block-D1536-B8-L2048-fb,block-D2560-B4-L4096-fb,block-D256-B2-L128-fb \
  --providers=generated,mamba_ssm_fused --baseline=.baseline --budget-s $(( 335 - ($(date +%s) - t0) )) \
  --out "$R/bench-block-fwdbwd.json" > "$R/bench-block-fwdbwd.log" 2>&1; echo "block fwdbwd rc=$? at $(el)"
tar -czf "$OUT/call15.tar.gz" -C "$OUT" call15
echo "== summary ($(el))"
grep -E "PASSED|FAILED|passed|failed" "$R/pytest-varlen.log" | tail -n 4; cat "$R/reset_diag.log" | cut -c1-190
tail -n 14 "$R/tuned.log"; tail -n 10 "$R/bench-block-fwdbwd.log"
