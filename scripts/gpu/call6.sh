#!/usr/bin/env bash
# Second device call of the 2026-12-01c session, issue 12: the quadrant task trained to the end
# with the generated block and the float64 reference backend (held-out accuracy, both loss curves),
# then every cross-scan case (four-way 56x56 and 14x14, bidirectional 1x4096), forward and fwd+bwd,
# against mamba_ssm_perm (crossscan_bench; its small-shape part passed on the GPU on 2026-12-01b and is
# skipped here for time; every timed row is still checked against float64 first). Carry .baseline.
set -u
cd "$(dirname "$0")/../.."
export PYTHONPATH=$PWD/packages/runner/python:$PWD/packages/kernels/python PYTHONUNBUFFERED=1
R=$OUT; t0=$(date +%s); el() { echo "$(( $(date +%s) - t0 )) s"; }
{ nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.mem --format=csv
  python3 -c "import torch, triton, sys; print(sys.version.split()[0], torch.__version__, triton.__version__)"; } > "$R/env.txt" 2>&1
timeout 170 python3 -m mamba2_runner.train_vision --pkg kernels-out/vision_mamba2 --steps 300 --batch 32 \
  --out "$R/train_vision" > "$R/train_vision.log" 2>&1; echo "train_vision rc=$? at $(el)"
timeout 350 python3 scripts/gpu/crossscan_bench.py --skip-checks --out "$R/crossscan.json" \
  > "$R/crossscan.log" 2>&1; echo "crossscan rc=$? at $(el)"
echo "== summary ($(el))"
tail -n 5 "$R/train_vision.log"; tail -n 24 "$R/crossscan.log"
