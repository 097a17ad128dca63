#!/usr/bin/env bash
# 2026-12-02d, third call (<= 560 s; carry .baseline .old-pkgs .pre-nan): main with the block as one custom op under
# torch.compile (helper-compile), MASK "auto" (the exponent mask with the inlined re-walk), the decode reorder taken back.
#   1. compile_check (default / fullgraph / reduce-overhead; layer and LM; 20 reps) and compile_profile (issue 10);
#   2. fwd_vs_old: main (MASK auto) vs cand (MASK product, the old default) vs old vs pre (issue 11 done-when 3);
#   3. correctness on cuda, side by side: kernel tests of what changed (compile, block function, fused re-walk,
#      non-finite inputs, decode), verify of mamba2_stateful and mamba2_130m (fp32 + bf16, gradients).
set -u
CALL=call38; source "$(dirname "$0")/_call.sh"
OUT="$R" timeout 170 python3 scripts/gpu/compile_check.py --reps 20 > "$R/compile.log" 2>&1
echo "compile rc=$? at $(el)"
timeout 40 python3 scripts/gpu/compile_profile.py > "$R/compile_profile.log" 2>&1
echo "compile_profile rc=$? at $(el)"
timeout 90 python3 scripts/gpu/fwd_vs_old.py --old .old-pkgs/kernels-out/mamba2_simple --pre .pre-nan --rounds 5 \
  --out "$R" > "$R/fwd_vs_old.log" 2>&1
echo "fwd_vs_old rc=$? at $(el)"
K=packages/kernels/python/tests
LEFT=$(( ${END:-600} - ($(date +%s) - t0) ))
timeout $LEFT python3 -m pytest -q -p no:cacheprovider $K/test_compile.py $K/test_block_fn.py $K/test_fused_rerun.py \
  $K/test_nonfinite.py $K/test_decode.py > "$R/tests.log" 2>&1 &
for n in mamba2_stateful mamba2_130m; do
  timeout $LEFT python3 -m mamba2_runner.verify kernels-out/$n --device cuda --dtypes fp32,bf16 \
    --json "$R/verify-$n.json" > "$R/verify-$n.log" 2>&1 &
done
wait
echo "correctness done at $(el)"
echo "== summary ($(el))"
tail -n 21 "$R/compile.log" | cut -c1-170
grep -E "^== |triton_poi" "$R/compile_profile.log" | cut -c1-120 | head -8
tail -n 8 "$R/fwd_vs_old.log" | cut -c1-200
tail -n 3 "$R/tests.log" | cut -c1-200
for n in mamba2_stateful mamba2_130m; do echo "verify $n: $(grep -c PASS "$R/verify-$n.log") PASS, $(grep -c FAIL "$R/verify-$n.log") FAIL"; grep FAIL "$R/verify-$n.log" | head -3 | cut -c1-160; tail -n 2 "$R/verify-$n.log" | cut -c1-200; done
pack; rm -rf "$R"
