#!/usr/bin/env bash
# Decision call of 2026-12-02b (<= 340 s; carry .baseline .old-pkgs .pre-nan): the candidates landed this
# session, each timed against what it would replace, before the committed runs (call29, call30).
#   1. fwd_vs_old.py: the fused forward with the re-walk called (main) vs inlined (cand) vs .old-pkgs vs
#      .pre-nan at the five forward shapes, float64 check first, 5 rounds (issue 11 done-when 3);
#   2. conv_bench.py: the conv backward's forms incl. bf16 dpre (helper-glue's opt-in);
#   3. block_profile.py --ab at d_model 2560: ours (block.py, no split cats) vs ours through the
#      composition (the cats) vs mamba_ssm_fused, wall and GPU per fwd+bwd, kernels by group;
#   4. fastlaunch_check.py (if present): prepared launches on vs off, bit-identical and host time;
#   5. the inline re-walk's tests on cuda (MAMBA2_FWD_REWALK=inline test_fused_rerun.py).
# Packed into $OUT/call28.tar.gz.
set -u
cd "$(dirname "$0")/../.."
export PYTHONPATH=$PWD/packages/runner/python:$PWD/packages/kernels/python PYTHONUNBUFFERED=1
R=$OUT/call28; mkdir -p "$R"; t0=$(date +%s); el() { echo "$(( $(date +%s) - t0 )) s"; }
nvidia-smi --query-gpu=name,clocks.sm,clocks.mem --format=csv > "$R/env.txt" 2>&1
timeout 100 python3 scripts/gpu/fwd_vs_old.py --old .old-pkgs/kernels-out/mamba2_simple --pre .pre-nan --rounds 5 \
  --out "$R" > "$R/fwd_vs_old.log" 2>&1; echo "fwd_vs_old rc=$? at $(el)"
timeout 45 python3 scripts/gpu/conv_bench.py --out "$R" > "$R/conv_bench.log" 2>&1; echo "conv_bench rc=$? at $(el)"
timeout 70 python3 scripts/gpu/block_profile.py --ab --out "$R" > "$R/block_profile.log" 2>&1; echo "block_profile rc=$? at $(el)"
if [ -f scripts/gpu/fastlaunch_check.py ]; then
  timeout 90 python3 scripts/gpu/fastlaunch_check.py --out "$R" > "$R/fastlaunch.log" 2>&1; echo "fastlaunch rc=$? at $(el)"
fi
MAMBA2_FWD_REWALK=inline timeout $(( 330 - ($(date +%s) - t0) )) python3 -m pytest -q -p no:cacheprovider -rfE --tb=short \
  packages/kernels/python/tests/test_fused_rerun.py > "$R/pytest-inline.log" 2>&1; echo "pytest inline rc=$? at $(el)"
tar -czf "$OUT/call28.tar.gz" -C "$OUT" call28
echo "== summary ($(el))"
sed -n '/^forward, median/,$p' "$R/fwd_vs_old.log" | head -30
sed -n '/^form/,$p' "$R/conv_bench.log" | head -20
grep -E "==|by group|wall" "$R/block_profile.log" | head -30
[ -f "$R/fastlaunch.log" ] && tail -n 20 "$R/fastlaunch.log"
tail -n 3 "$R/pytest-inline.log"
