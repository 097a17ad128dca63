#!/usr/bin/env bash
# Next session's first call (<= 420 s; carry .baseline): what 2026-12-01f could not run.
#   1. pytest on cuda: test_bwd_ssd.py (the v6 fallback tests and v6 with seq_idx have not run on the GPU),
#      test_grad.py;
#   2. bwd_bench, all five shapes without z: v4, v6 (default), v6 without the head split, chunk 256 without it,
#      walks in 64-long tiles; v6's check now includes seq_idx (V6_SEQ_IDX on for the check only): if it
#      passes, set V6_SEQ_IDX = True in ssd_bwd_v6.py (NOTES.md "Backward v6").
# Packed into $OUT/call22.tar.gz.
set -u
cd "$(dirname "$0")/../.."
export PYTHONPATH=$PWD/packages/runner/python:$PWD/packages/kernels/python PYTHONUNBUFFERED=1
R=$OUT/call22; mkdir -p "$R"; t0=$(date +%s); el() { echo "$(( $(date +%s) - t0 )) s"; }
nvidia-smi --query-compute-apps=pid,name --format=csv
timeout 300 python3 scripts/gpu/bwd_bench.py --out "$R" --no-z \
  --variants v4-q32w8,v6,v6-ns1,v6-k256,v6-sub64 > "$R/bwd_bench.log" 2>&1; echo "bwd_bench rc=$? at $(el)"
K=packages/kernels/python/tests
timeout $(( 410 - ($(date +%s) - t0) )) python3 -m pytest -q -p no:cacheprovider -rfE --tb=short \
  $K/test_bwd_ssd.py $K/test_grad.py > "$R/pytest.log" 2>&1; echo "pytest rc=$? at $(el)"
tar -czf "$OUT/call22.tar.gz" -C "$OUT" call22
echo "== summary ($(el))"
grep -E "^check|split" "$R/bwd_bench.log"; sed -n '/^shape/,$p' "$R/bwd_bench.log"; tail -n 8 "$R/pytest.log"
