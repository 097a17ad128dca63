#!/usr/bin/env bash
# 2026-12-02d, second call (<= 420 s; run from a snapshot of main + helper-fwd64's candidate in .snap, carry
# .snap .baseline .old-pkgs .pre-nan; see NOTES 2026-12-02d):
#   1. on cuda: test_decode (the state load moved first), test_fused_rerun default and MASK=exponent;
#   2. verify mamba2_stateful fp32 + bf16 (the clamp-margin draws; issue 11 done-when 1);
#   3. decode_sweep.py (the reorder's effect, vs call36) and the decode bench vs Mamba2.step (interop_check
#      --decode-only) and decode_check (full: correctness + the composition incumbent);
#   4. fwd_vs_old.py: main (MASK product) vs cand (MASK exponent) vs old vs pre (issue 11 done-when 3).
set -u
CALL=call37; source "$(dirname "$0")/_call.sh"
K=packages/kernels/python/tests
timeout 120 python3 -m pytest -q -p no:cacheprovider $K/test_decode.py $K/test_fused_rerun.py > "$R/tests.log" 2>&1
echo "tests rc=$? at $(el)"
MAMBA2_FWD_MASK=exponent timeout 60 python3 -m pytest -q -p no:cacheprovider $K/test_fused_rerun.py > "$R/tests-exp.log" 2>&1
echo "tests exponent rc=$? at $(el)"
timeout 90 python3 -m mamba2_runner.verify kernels-out/mamba2_stateful --device cuda --dtypes fp32,bf16 \
  --json "$R/verify-stateful.json" > "$R/verify-stateful.log" 2>&1
echo "verify rc=$? at $(el)"
timeout 60 python3 scripts/gpu/decode_sweep.py --out "$R" > "$R/decode_sweep.log" 2>&1
echo "decode_sweep rc=$? at $(el)"
OUT="$R" timeout 60 python3 scripts/gpu/interop_check.py --decode-only > "$R/interop.log" 2>&1
echo "interop rc=$? at $(el)"
OUT="$R" timeout 70 python3 scripts/gpu/decode_check.py > "$R/decode.log" 2>&1
echo "decode rc=$? at $(el)"
timeout 100 python3 scripts/gpu/fwd_vs_old.py --old .old-pkgs/kernels-out/mamba2_simple --pre .pre-nan --rounds 5 \
  --out "$R" > "$R/fwd_vs_old.log" 2>&1
echo "fwd_vs_old rc=$? at $(el)"
echo "== summary ($(el))"
tail -n 3 "$R/tests.log" "$R/tests-exp.log" | cut -c1-200
grep -E "FAIL|passed|failed" "$R/verify-stateful.log" | tail -n 4 | cut -c1-200
tail -n 9 "$R/decode_sweep.log" | cut -c1-200
grep -E "^name=" "$R/interop.log" | cut -c1-230 | tail -n 4
grep -E "ok=False|rows," "$R/decode.log" | cut -c1-230 | tail -n 4
tail -n 14 "$R/fwd_vs_old.log" | cut -c1-200
pack; rm -rf "$R"
