#!/usr/bin/env bash
# Last device call of the 2026-12-01d session (short, right after call12 while the machine is warm).
# Carry .baseline.
#   - issue 9: block forward+backward vs mamba_ssm's fused block (mamba_split_conv1d_scan_combined +
#     causal-conv1d), gradients checked first;
#   - issue 10: torch.compile check (layer and LM: default, fullgraph, reduce-overhead);
#   - issue 12: the cross-scan fwd+bwd rows again with the fixed gradient cross-check (one upstream
#     gradient for every provider).
# Packed into $OUT/call13.tar.gz.
set -u
cd "$(dirname "$0")/../.."
export PYTHONPATH=$PWD/packages/runner/python:$PWD/packages/kernels/python PYTHONUNBUFFERED=1
R=$OUT/call13; mkdir -p "$R"; t0=$(date +%s); el() { echo "$(( $(date +%s) - t0 )) s"; }
T=${T:-330}
timeout $(( T * 45 / 100 )) python3 -m mamba2_runner.bench --mode fwdbwd \
  --configs block-D256-B2-L128-fb,block-D1536-B8-L2048-fb,block-D2560-B4-L4096-fb \
  --providers=generated,mamba_ssm_fused --baseline=.baseline --budget-s $(( T * 40 / 100 )) \
  --out "$R/bench-block-fwdbwd.json" > "$R/bench-block-fwdbwd.log" 2>&1; echo "block fwdbwd rc=$? at $(el)"
timeout $(( T * 30 / 100 )) python3 scripts/gpu/compile_check.py > "$R/compile.log" 2>&1; echo "compile rc=$? at $(el)"
timeout $(( T - 8 - ($(date +%s) - t0) )) python3 scripts/gpu/crossscan_bench.py --skip-checks --cases 56x56 bidirectional \
  --out "$R/crossscan.json" > "$R/crossscan.log" 2>&1; echo "crossscan rc=$? at $(el)"
tar -czf "$OUT/call13.tar.gz" -C "$OUT" call13
echo "== summary ($(el))"
tail -n 14 "$R/bench-block-fwdbwd.log"; tail -n 20 "$R/compile.log" | cut -c1-150; tail -n 16 "$R/crossscan.log"
