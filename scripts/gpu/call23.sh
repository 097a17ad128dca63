#!/usr/bin/env bash
# Second call of 2026-12-02 (<= 460 s; carry .baseline), on call22's warm machine: what call22 ran out of time for.
#   1. block_profile.py at d_model 2560 (4, 4096): the block's kernels by GPU time, ours vs mamba_ssm_fused;
#   2. pytest on cuda: test_bwd_ssd.py, test_grad.py (call22 passed the first 20 before its limit);
#   3. bwd_bench at the seed and (1, 65536, 80) (call22 did not reach them): v6, walk tile 64, chunk 256 +
#      tile 64 without the head split.
# Packed into $OUT/call23.tar.gz.
set -u
cd "$(dirname "$0")/../.."
export PYTHONPATH=$PWD/packages/runner/python:$PWD/packages/kernels/python PYTHONUNBUFFERED=1
R=$OUT/call23; mkdir -p "$R"; t0=$(date +%s); el() { echo "$(( $(date +%s) - t0 )) s"; }
nvidia-smi --query-compute-apps=pid,name --format=csv
timeout 140 python3 scripts/gpu/block_profile.py --out "$R" > "$R/block_profile.log" 2>&1; echo "block_profile rc=$? at $(el)"
K=packages/kernels/python/tests
timeout 150 python3 -m pytest -q -p no:cacheprovider -rfE --tb=short \
  $K/test_bwd_ssd.py $K/test_grad.py > "$R/pytest.log" 2>&1; echo "pytest rc=$? at $(el)"
timeout $(( 450 - ($(date +%s) - t0) )) python3 scripts/gpu/bwd_bench.py --out "$R" --no-z --shapes 3,4 \
  --variants v6,v6-sub64,v6-k256-sub64-ns1 > "$R/bwd_bench.log" 2>&1; echo "bwd_bench rc=$? at $(el)"
tar -czf "$OUT/call23.tar.gz" -C "$OUT" call23
echo "== summary ($(el))"
grep -E "^check" "$R/bwd_bench.log"; sed -n '/^shape/,$p' "$R/bwd_bench.log"; tail -n 12 "$R/pytest.log"
head -c 6000 "$R/block_profile_2560.txt"
