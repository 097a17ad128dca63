#!/usr/bin/env bash
# Device call of the second 2026-12-01 session: issue 10's checks against the incumbent's own
# classes (interop_check.py: weights both ways, logits, greedy tokens, decode step, generation) and
# torch.compile (compile_check.py); issue 9's block rows against mamba_ssm_fused, now that
# causal-conv1d's extension is built (carry .baseline with causal_conv1d_cuda.so).
# Everything lands in $OUT (logs + JSON); a summary is printed last.
set -u
cd "$(dirname "$0")/../.."
export PYTHONPATH=$PWD/packages/runner/python:$PWD/packages/kernels/python PYTHONUNBUFFERED=1
R=$OUT; t0=$(date +%s); el() { echo "$(( $(date +%s) - t0 )) s"; }
{ nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.mem --format=csv
  python3 -c "import torch, triton, sys; print(sys.version.split()[0], torch.__version__, triton.__version__)"; } > "$R/env.txt" 2>&1
timeout 200 python3 scripts/gpu/interop_check.py > "$R/interop.log" 2>&1; echo "interop rc=$? at $(el)"
P=--providers=generated,mamba_ssm,mamba_ssm_fused
timeout 110 python3 -m mamba2_runner.bench --mode fwd --configs block-D256-B2-L128,block-D1536-B8-L2048,block-D2560-B4-L4096 \
  $P --baseline=.baseline --budget-s 95 --out "$R/bench-block-fwd.json" > "$R/bench-block-fwd.log" 2>&1; echo "block fwd rc=$? at $(el)"
timeout 130 python3 -m mamba2_runner.bench --mode fwdbwd --configs block-D256-B2-L128-fb,block-D1536-B8-L2048-fb,block-D2560-B4-L4096-fb \
  $P --baseline=.baseline --budget-s 115 --out "$R/bench-block-fwdbwd.json" > "$R/bench-block-fwdbwd.log" 2>&1; echo "block fwdbwd rc=$? at $(el)"
timeout 150 python3 scripts/gpu/compile_check.py > "$R/compile.log" 2>&1; echo "compile rc=$? at $(el)"
echo "== summary ($(el))"
tail -n 16 "$R/interop.log"; for f in bench-block-fwd bench-block-fwdbwd; do echo "-- $f"; tail -n 14 "$R/$f.log"; done
echo "-- compile"; tail -n 20 "$R/compile.log"
