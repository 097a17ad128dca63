#!/usr/bin/env bash
# First call of 2026-12-02 (<= 430 s; carry .baseline): what 2026-12-01f could not run, and the walk tiles.
#   1. bwd_bench, four shapes without z (the (1, 65536, 80) row last): v6 (default, walk tile 32), walk tile 64
#      (4 and 8 warps), walk tile 128 (8 warps, no register cap), chunk 256 + tile 64 without the head split
#      (the memory candidate); v6's check includes seq_idx (V6_SEQ_IDX on for the check only): if it passes,
#      V6_SEQ_IDX = True (NOTES.md "Backward v6");
#   2. pytest on cuda: test_bwd_ssd.py (v6's fallback and seq_idx tests have not run on the GPU), test_grad.py;
#   3. block_profile.py at d_model 2560 (4, 4096): the block's kernels by GPU time, ours vs mamba_ssm_fused.
# Packed into $OUT/call22.tar.gz.
set -u
cd "$(dirname "$0")/../.."
export PYTHONPATH=$PWD/packages/runner/python:$PWD/packages/kernels/python PYTHONUNBUFFERED=1
R=$OUT/call22; mkdir -p "$R"; t0=$(date +%s); el() { echo "$(( $(date +%s) - t0 )) s"; }
nvidia-smi --query-compute-apps=pid,name --format=csv
timeout 270 python3 scripts/gpu/bwd_bench.py --out "$R" --no-z \
  --variants v6,v6-sub64,v6-sub64w8,v6-sub128w8,v6-k256-sub64-ns1 > "$R/bwd_bench.log" 2>&1; echo "bwd_bench rc=$? at $(el)"
timeout 45 python3 scripts/gpu/block_profile.py --out "$R" > "$R/block_profile.log" 2>&1; echo "block_profile rc=$? at $(el)"
K=packages/kernels/python/tests
timeout $(( 420 - ($(date +%s) - t0) )) python3 -m pytest -q -p no:cacheprovider -rfE --tb=short -x \
  $K/test_bwd_ssd.py $K/test_grad.py > "$R/pytest.log" 2>&1; echo "pytest rc=$? at $(el)"
tar -czf "$OUT/call22.tar.gz" -C "$OUT" call22
echo "== summary ($(el))"
grep -E "^check|^split" "$R/bwd_bench.log"; sed -n '/^shape/,$p' "$R/bwd_bench.log"; tail -n 8 "$R/pytest.log"
head -c 5000 "$R/block_profile.log"
