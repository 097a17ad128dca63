#!/usr/bin/env bash
# Issue 9, "tiny shapes are launch-bound": the seed block's forward+backward on the H200 (<= 200 s
# with the machine's start; carry .baseline). After the host-time cuts of 2026-12-01e (NOTES "Host
# time at the seed shape"), measured on CPU with the kernels stubbed only:
#   - bench block fwd+bwd at d_model 256 (2, 128), generated vs mamba_ssm_fused (call15: 3.835 vs
#     5.173 ms; target >= 3x, i.e. <= ~1.7 ms);
#   - scripts/host_profile.py --cuda: host time per call (no sync) vs wall (synced), host time per
#     Triton launch by kernel, a CUDA-graph replay (device time alone), a torch.profiler table:
#     which of launches, aten ops, autograd or our Python the 3.8 ms is.
# Packed into $OUT/call17.tar.gz.
set -u
cd "$(dirname "$0")/../.."
export PYTHONPATH=$PWD/packages/runner/python:$PWD/packages/kernels/python PYTHONUNBUFFERED=1
R=$OUT/call17; mkdir -p "$R"; t0=$(date +%s); el() { echo "$(( $(date +%s) - t0 )) s"; }
timeout 70 python3 scripts/host_profile.py --cuda --calls 200 --json "$R/host_cuda.json" \
  --prof-out "$R/host_cuda_profiler.txt" > "$R/host_cuda.log" 2>&1; echo "host_profile rc=$? at $(el)"
timeout $(( 170 - ($(date +%s) - t0) )) python3 -m mamba2_runner.bench --mode fwdbwd \
  --configs block-D256-B2-L128-fb --providers=generated,mamba_ssm_fused --baseline=.baseline \
  --budget-s $(( 160 - ($(date +%s) - t0) )) \
  --out "$R/bench-block-fwdbwd.json" > "$R/bench-block-fwdbwd.log" 2>&1; echo "block fwdbwd rc=$? at $(el)"
tar -czf "$OUT/call17.tar.gz" -C "$OUT" call17
echo "== summary ($(el))"
head -c 1500 "$R/host_cuda.json"; echo; tail -n 8 "$R/bench-block-fwdbwd.log"
