#!/usr/bin/env bash
# The committed run of 2026-12-02b (<= 400 s; carry .baseline .old-pkgs): one process per mode, all in one
# call on one machine, so every ratio is within this run.
#   1. bench --mode fwdbwd 'all' = issue 9's training table (SSD seed, (8,2048,64), (4,4096,80), g8,
#      (1,65536,80); blocks d_model 256 / 1536 / 2560): ours (fused / generated) vs mamba_ssm /
#      mamba_ssm_fused (causal-conv1d built), and the pre-restructure package (fused@old,
#      generated@old) side by side (issue 11 done-when 3); gradients checked vs float64 first; peak memory;
#   2. bench --mode fwd 'all' (BENCH_TARGETS' forward table) vs the incumbent (issue 9: the forward must not
#      regress); the forward vs the old package is call28's fwd_vs_old (5 rounds, side by side);
#   (block_profile --ab was dropped for device time: the block rows above time block.py, the default.)
# Packed into $OUT/call29.tar.gz.
set -u
cd "$(dirname "$0")/../.."
export PYTHONPATH=$PWD/packages/runner/python:$PWD/packages/kernels/python PYTHONUNBUFFERED=1
R=$OUT/call29; mkdir -p "$R"; t0=$(date +%s); el() { echo "$(( $(date +%s) - t0 )) s"; }
nvidia-smi --query-gpu=name,clocks.sm,clocks.mem --format=csv > "$R/env.txt" 2>&1
P=fused,mamba_ssm,generated,mamba_ssm_fused
timeout 330 python3 -m mamba2_runner.bench --mode fwdbwd --configs all --providers=$P --compare-pkg old=.old-pkgs \
  --baseline=.baseline --budget-s 250 --out "$R/bench-fwdbwd.json" > "$R/bench-fwdbwd.log" 2>&1
echo "fwdbwd rc=$? at $(el)"
timeout $(( 395 - ($(date +%s) - t0) )) python3 -m mamba2_runner.bench --mode fwd --configs all --providers=$P \
  --baseline=.baseline --budget-s $(( 370 - ($(date +%s) - t0) )) \
  --out "$R/bench-fwd.json" > "$R/bench-fwd.log" 2>&1
echo "fwd rc=$? at $(el)"
tar -czf "$OUT/call29.tar.gz" -C "$OUT" call29
echo "== summary ($(el))"
grep -v "^\[bench\]" "$R/bench-fwdbwd.log" | tail -n 14 | cut -c1-230
grep -v "^\[bench\]" "$R/bench-fwd.log" | tail -n 18 | cut -c1-230
