#!/usr/bin/env bash
# Backward v6 on the H200, first run (<= 480 s; carry .baseline). NOTES "Backward v6 ... measured".
#   1. bwd_bench: v4 (default), v4 with nsplit 1 (the sweep's +3.5-4.4%), v6 at chunk 256 (8 and 4 warps)
#      and 128: each checked against float64 autograd (bf16, (2, 1000, 8, 64, g 2, N 128), D, dt_bias,
#      softplus, limit, initial and final states; v6 without z / seq_idx, which it gives to v4), two runs
#      bit-identical, then fwd+bwd and bwd-only medians at issue 9's shapes vs mamba_ssm, peak memory,
#      and a torch.profiler split of the fastest at (4, 4096, 80);
#   2. pytest on cuda: the backward version tests (v6 cases included) and test_bwd_resets.
# Packed into $OUT/call19.tar.gz.
set -u
cd "$(dirname "$0")/../.."
export PYTHONPATH=$PWD/packages/runner/python:$PWD/packages/kernels/python PYTHONUNBUFFERED=1
R=$OUT/call19; mkdir -p "$R"; t0=$(date +%s); el() { echo "$(( $(date +%s) - t0 )) s"; }
nvidia-smi --query-compute-apps=pid,name --format=csv
timeout 330 python3 scripts/gpu/bwd_bench.py --out "$R" --variants v4-q32w8,v4-ns1,v6-k256w8,v6-k256w4,v6-k128w8 \
  > "$R/bwd_bench.log" 2>&1; echo "bwd_bench rc=$? at $(el)"
K=packages/kernels/python/tests
timeout $(( 460 - ($(date +%s) - t0) )) python3 -m pytest -q -p no:cacheprovider -rfE --tb=short \
  $K/test_bwd_ssd.py $K/test_bwd_resets.py > "$R/pytest.log" 2>&1; echo "pytest rc=$? at $(el)"
tar -czf "$OUT/call19.tar.gz" -C "$OUT" call19
echo "== summary ($(el))"
grep -E "^check|split" "$R/bwd_bench.log"; sed -n '/^shape/,$p' "$R/bwd_bench.log"; tail -n 8 "$R/pytest.log"
