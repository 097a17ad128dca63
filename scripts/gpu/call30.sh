#!/usr/bin/env bash
# Last call of 2026-12-02b (<= 500 s; carry .baseline): issue 12's timed run, then correctness of the final state.
#   1. crossscan_bench.py, bf16, no part-1 checks (every timed row is still checked first: output vs float64,
#      fwd+bwd gradients vs mamba_ssm_perm's): four-way at 56x56 and 14x14, bidirectional (4, 4096, 80);
#      providers generated (the default merge, chain), generated-buffer, mamba_ssm_perm, and the
#      unidirectional scan and the floor with the forward rows;
#   2. call27.sh's correctness (CALL=call30c): every kernel test on cuda in 12 processes (the >2^31 tests
#      alone after), verify of every package fp32 + bf16, MQAR, quadrant, decode, interop, cross-scan checks.
# Packed into $OUT/call30.tar.gz and $OUT/call30c.tar.gz.
set -u
cd "$(dirname "$0")/../.."
export PYTHONPATH=$PWD/packages/runner/python:$PWD/packages/kernels/python PYTHONUNBUFFERED=1
R=$OUT/call30; mkdir -p "$R"; t0=$(date +%s); el() { echo "$(( $(date +%s) - t0 )) s"; }
timeout ${TCS:-170} python3 scripts/gpu/crossscan_bench.py --skip-checks --cases 56x56 14x14 bidirectional \
  --providers generated,generated-buffer,mamba_ssm_perm --out "$R/crossscan.json" > "$R/crossscan.log" 2>&1
echo "crossscan rc=$? at $(el)"
tar -czf "$OUT/call30.tar.gz" -C "$OUT" call30
CALL=call30c LIM=${LIM:-220} LARGE_LIM=${LARGE_LIM:-100} bash scripts/gpu/call27.sh
echo "== crossscan summary"
tail -n 16 "$R/crossscan.log" | cut -c1-200
