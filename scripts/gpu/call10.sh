#!/usr/bin/env bash
# Third device call of the 2026-12-01d session. Carry .baseline (causal_conv1d_cuda.so for mamba_ssm_fused).
#   - issue 13: the kernel sweep of today's forward and backward and the model-level sweep
#     (scripts/gpu/sweep13.sh STAGE=sweep), records with provenance and the new kernel shas;
#   - issue 9: block forward+backward at d_model 256 / 1536 / 2560 against mamba_ssm's fused block
#     (mamba_split_conv1d_scan_combined + causal-conv1d), gradients checked first, peak memory.
# BWD=v4|v5s selects the SSD backward for the block rows (env MAMBA2_SSD_BWD), from call9's bwd_bench.
set -u
cd "$(dirname "$0")/../.."
export PYTHONPATH=$PWD/packages/runner/python:$PWD/packages/kernels/python PYTHONUNBUFFERED=1
R=$OUT; t0=$(date +%s); el() { echo "$(( $(date +%s) - t0 )) s"; }
{ nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.mem --format=csv
  python3 -c "import torch, triton, sys; print(sys.version.split()[0], torch.__version__, triton.__version__)"; } > "$R/env.txt" 2>&1
mkdir -p "$R/sweep"
OUT=$R/sweep STAGE=sweep TIMEOUT=232 bash scripts/gpu/sweep13.sh > "$R/sweep13.log" 2>&1; echo "sweep13 rc=$? at $(el)"
left=$(( 570 - ($(date +%s) - t0) ))
MAMBA2_SSD_BWD=${BWD:-v4} timeout $left python3 -m mamba2_runner.bench --mode fwdbwd \
  --configs block-D256-B2-L128-fb,block-D1536-B8-L2048-fb,block-D2560-B4-L4096-fb \
  --providers=generated,mamba_ssm_fused --baseline=.baseline --budget-s $(( left - 40 )) \
  --out "$R/bench-block-fwdbwd.json" > "$R/bench-block-fwdbwd.log" 2>&1; echo "block fwdbwd (bwd ${BWD:-v4}) rc=$? at $(el)"
echo "== summary ($(el))"
tail -n 12 "$R/sweep13.log"; tail -n 16 "$R/bench-block-fwdbwd.log"
