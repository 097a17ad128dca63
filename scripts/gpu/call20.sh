#!/usr/bin/env bash
# Backward v6, second H200 run (<= 560 s; carry .baseline). After call19 (v6 first run: 1.11-1.67x the
# incumbent's SSD fwd+bwd at three shapes, walks 0.81 ms of it): the walks' non-finite flag read from the
# last state only (no reductions in the loop), the dx and dbc block loops pipelined from j (no if), C B^T
# stored in the input dtype, the pair kernel on 8 warps with the group's heads split while programs are few.
#   1. bwd_bench: v4 (default) and v6 variants (pair warps 8/4, split on/off, chunk 128, 3 stages);
#   2. block fwd+bwd with MAMBA2_SSD_BWD=v6 (the packages' backward), generated vs mamba_ssm_fused.
# Packed into $OUT/call20.tar.gz.
set -u
cd "$(dirname "$0")/../.."
export PYTHONPATH=$PWD/packages/runner/python:$PWD/packages/kernels/python PYTHONUNBUFFERED=1
R=$OUT/call20; mkdir -p "$R"; t0=$(date +%s); el() { echo "$(( $(date +%s) - t0 )) s"; }
nvidia-smi --query-compute-apps=pid,name --format=csv
timeout 300 python3 scripts/gpu/bwd_bench.py --out "$R" \
  --variants v4-q32w8,v6-w4p8,v6-w4p4,v6-w4p8ns1,v6-k128,v6-w4p8s3 > "$R/bwd_bench.log" 2>&1; echo "bwd_bench rc=$? at $(el)"
MAMBA2_SSD_BWD=v6 timeout $(( 545 - ($(date +%s) - t0) )) python3 -m mamba2_runner.bench --mode fwdbwd \
  --configs block-D1536-B8-L2048-fb,block-D2560-B4-L4096-fb \
  --providers=generated,mamba_ssm_fused --baseline=.baseline --budget-s $(( 530 - ($(date +%s) - t0) )) \
  --out "$R/bench-block-fwdbwd-v6.json" > "$R/bench-block-fwdbwd-v6.log" 2>&1; echo "block fwdbwd rc=$? at $(el)"
tar -czf "$OUT/call20.tar.gz" -C "$OUT" call20
echo "== summary ($(el))"
grep -E "^check|split" "$R/bwd_bench.log"; sed -n '/^shape/,$p' "$R/bwd_bench.log"; tail -n 6 "$R/bench-block-fwdbwd-v6.log"
