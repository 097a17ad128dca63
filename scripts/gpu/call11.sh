#!/usr/bin/env bash
# Last (short) device call of the 2026-12-01d session, issue 10 item 4: torch.compile of the layer and
# the LM (default, fullgraph, reduce-overhead: correctness vs eager, recompiles, compiled / eager time),
# then compile_profile (the layer's eager vs compiled wall and GPU time, the kernel list: the custom ops
# now carry needs_exact_strides, so Inductor should add no copy kernel before the conv and the norm),
# then host time per call of the seed-shape forward, current vs the pre-restructure package. Carry .old-pkgs.
set -u
cd "$(dirname "$0")/../.."
export PYTHONPATH=$PWD/packages/runner/python:$PWD/packages/kernels/python PYTHONUNBUFFERED=1
R=$OUT; t0=$(date +%s); el() { echo "$(( $(date +%s) - t0 )) s"; }
timeout ${T1:-110} python3 scripts/gpu/compile_check.py > "$R/compile.log" 2>&1; echo "compile_check rc=$? at $(el)"
timeout ${T2:-50} python3 scripts/gpu/compile_profile.py > "$R/compile_profile.log" 2>&1; echo "compile_profile rc=$? at $(el)"
timeout ${T3:-40} python3 scripts/gpu/host_overhead.py kernels-out/mamba2_simple .old-pkgs/kernels-out/mamba2_simple \
  > "$R/host.log" 2>&1; echo "host_overhead rc=$? at $(el)"
echo "== summary ($(el))"
grep "us/call" "$R/host.log"; tail -n 22 "$R/compile.log" | cut -c1-160; grep "^== \|triton_poi" "$R/compile_profile.log" | cut -c1-120 | head -12
