#!/usr/bin/env bash
# Third call of 2026-12-02 (<= 450 s; carry .baseline): issue 9 after this session's changes (walk tile 64, no
# head split, the non-finite check read after every launch, the conv backward in one launch).
#   1. bwd_bench, five shapes without z: v6-sub64-ns1 (the default now), v6-sub64 (with the head split),
#      v6-k256-sub64-ns1 (chunk 256: the memory candidate); checked against float64 first (seq_idx included);
#   2. block fwd+bwd, generated vs mamba_ssm_fused, d_model 1536, 2560 and the seed (gradients checked first);
#   3. block_profile.py at d_model 2560: the conv backward's one launch and the GPU idle time (wall - GPU).
# Packed into $OUT/call24.tar.gz.
set -u
cd "$(dirname "$0")/../.."
export PYTHONPATH=$PWD/packages/runner/python:$PWD/packages/kernels/python PYTHONUNBUFFERED=1
R=$OUT/call24; mkdir -p "$R"; t0=$(date +%s); el() { echo "$(( $(date +%s) - t0 )) s"; }
nvidia-smi --query-compute-apps=pid,name --format=csv
timeout 230 python3 scripts/gpu/bwd_bench.py --out "$R" --no-z \
  --variants v6-sub64-ns1,v6-sub64,v6-k256-sub64-ns1 > "$R/bwd_bench.log" 2>&1; echo "bwd_bench rc=$? at $(el)"
timeout $(( 400 - ($(date +%s) - t0) )) python3 -m mamba2_runner.bench --mode fwdbwd \
  --configs block-D1536-B8-L2048-fb,block-D2560-B4-L4096-fb,block-D256-B2-L128-fb \
  --providers=generated,mamba_ssm_fused --baseline=.baseline --budget-s $(( 390 - ($(date +%s) - t0) )) \
  --out "$R/bench-block-fwdbwd.json" > "$R/bench-block-fwdbwd.log" 2>&1; echo "block fwdbwd rc=$? at $(el)"
timeout $(( 445 - ($(date +%s) - t0) )) python3 scripts/gpu/block_profile.py --out "$R" > "$R/block_profile.log" 2>&1; echo "block_profile rc=$? at $(el)"
tar -czf "$OUT/call24.tar.gz" -C "$OUT" call24
echo "== summary ($(el))"
grep -E "^check|^split" "$R/bwd_bench.log"; sed -n '/^shape/,$p' "$R/bwd_bench.log"; tail -n 7 "$R/bench-block-fwdbwd.log"
head -c 2500 "$R/block_profile_2560.txt"
