#!/usr/bin/env bash
# 2026-12-02c, the last call (<= 540 s; carry .baseline):
#   1. crossscan_bench.py, the bidirectional (4, 4096, 80) rows that call33's limit cut (fwd again, so both
#      rows' ratios are from this run; fwd+bwd), issue 12;
#   2. grad_seeds.py: is mamba2_stateful's bf16 'grad block dt_bias' failure (call32) a bug or the dt clamp's
#      kink? 40 seeds, block.py's Function and the composition, each vs float64, with the clamp flips;
#   3. decode_check.py (full): decode correctness of every package (fp32, bf16, bf16 state), the CUDA-graph step,
#      decode-D2560-B{1,16,64,256} vs mamba_ssm's step, generation at mamba2-130m's shape (issue 10);
#   4. compile_check.py: torch.compile default / fullgraph / reduce-overhead, layer and LM (issue 10).
# Packed into $OUT/call34.tar.gz.
set -u
cd "$(dirname "$0")/../.."
export PYTHONPATH=$PWD/packages/runner/python:$PWD/packages/kernels/python PYTHONUNBUFFERED=1
R=$OUT/call34; mkdir -p "$R"; t0=$(date +%s); el() { echo "$(( $(date +%s) - t0 )) s"; }
nvidia-smi --query-gpu=name,clocks.sm,clocks.mem --format=csv > "$R/env.txt" 2>&1
git log -1 --format=%H >> "$R/env.txt" 2>/dev/null
timeout ${TCS:-120} python3 scripts/gpu/crossscan_bench.py --skip-checks --cases bidirectional \
  --providers generated,generated-buffer,mamba_ssm_perm,unidirectional --out "$R/crossscan.json" > "$R/crossscan.log" 2>&1
echo "crossscan rc=$? at $(el)"
timeout ${TGS:-80} python3 scripts/gpu/grad_seeds.py kernels-out/mamba2_stateful 40 --out "$R/grad_seeds.json" \
  > "$R/grad_seeds.log" 2>&1
echo "grad_seeds rc=$? at $(el)"
OUT="$R" timeout ${TDC:-150} python3 scripts/gpu/decode_check.py > "$R/decode.log" 2>&1
echo "decode rc=$? at $(el)"
OUT="$R" timeout $(( ${END:-520} - ($(date +%s) - t0) )) python3 scripts/gpu/compile_check.py > "$R/compile.log" 2>&1
echo "compile rc=$? at $(el)"
tar -czf "$OUT/call34.tar.gz" -C "$OUT" call34
echo "== summary ($(el))"
tail -n 8 "$R/crossscan.log" | cut -c1-200
tail -n 3 "$R/grad_seeds.log" | cut -c1-300
grep -E "^name=|rows," "$R/decode.log" | cut -c1-260 | tail -n 12
tail -n 22 "$R/compile.log" | cut -c1-170
