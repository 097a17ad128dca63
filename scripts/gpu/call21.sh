#!/usr/bin/env bash
# The committed run for issue 9 after backward v6 became the default (<= 390 s; carry .baseline).
#   1. bwd_bench (no z row: v6 gives z to v4): v4, v6 (the default: chunk 128), v6 without the head split,
#      chunk 256, walks in 64-long tiles; checked against float64 first; fwd+bwd / bwd medians vs mamba_ssm,
#      peak memory, a torch.profiler split of the fastest at (4, 4096, 80);
#   2. block fwd+bwd (the packages' default: v6, and the split of zxbcdt / xBC by torch.split), generated vs
#      mamba_ssm_fused, at d_model 1536, 2560 and the seed.
# Packed into $OUT/call21.tar.gz.
set -u
cd "$(dirname "$0")/../.."
export PYTHONPATH=$PWD/packages/runner/python:$PWD/packages/kernels/python PYTHONUNBUFFERED=1
R=$OUT/call21; mkdir -p "$R"; t0=$(date +%s); el() { echo "$(( $(date +%s) - t0 )) s"; }
nvidia-smi --query-compute-apps=pid,name --format=csv
timeout 215 python3 scripts/gpu/bwd_bench.py --out "$R" --no-z \
  --variants v4-q32w8,v6,v6-ns1,v6-k256,v6-sub64 > "$R/bwd_bench.log" 2>&1; echo "bwd_bench rc=$? at $(el)"
timeout $(( 385 - ($(date +%s) - t0) )) python3 -m mamba2_runner.bench --mode fwdbwd \
  --configs block-D1536-B8-L2048-fb,block-D2560-B4-L4096-fb,block-D256-B2-L128-fb \
  --providers=generated,mamba_ssm_fused --baseline=.baseline --budget-s $(( 375 - ($(date +%s) - t0) )) \
  --out "$R/bench-block-fwdbwd.json" > "$R/bench-block-fwdbwd.log" 2>&1; echo "block fwdbwd rc=$? at $(el)"
tar -czf "$OUT/call21.tar.gz" -C "$OUT" call21
echo "== summary ($(el))"
grep -E "^check|split" "$R/bwd_bench.log"; sed -n '/^shape/,$p' "$R/bwd_bench.log"; tail -n 7 "$R/bench-block-fwdbwd.log"
