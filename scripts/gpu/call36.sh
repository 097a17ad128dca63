#!/usr/bin/env bash
# 2026-12-02d, first call (<= 560 s; carry .baseline):
#   1. causal-conv1d's extension built (background; the .so comes back in $OUT/call36/ to carry later);
#   2. meanwhile decode_sweep.py: where the d_model 2560 step's time goes, step launches per batch (issue 10);
#   3. compile_profile.py: the compiled layer's host vs kernel time (issue 10);
#   4. after the build: interop_check.py (weights both ways, logits, greedy; decode and generation vs
#      mamba_ssm's Mamba2.step / MambaLMHeadModel.generate) and decode_check.py full (issue 10).
set -u
CALL=call36; source "$(dirname "$0")/_call.sh"
build_cc1d > "$R/build.txt" 2>&1 &
BUILD=$!
timeout 150 python3 scripts/gpu/decode_sweep.py --out "$R" > "$R/decode_sweep.log" 2>&1
echo "decode_sweep rc=$? at $(el)"
timeout 60 python3 scripts/gpu/compile_profile.py > "$R/compile_profile.log" 2>&1
echo "compile_profile rc=$? at $(el)"
wait $BUILD; cat "$R/build.txt"
OUT="$R" timeout 200 python3 scripts/gpu/interop_check.py > "$R/interop.log" 2>&1
echo "interop rc=$? at $(el)"
OUT="$R" timeout $(( ${END:-540} - ($(date +%s) - t0) )) python3 scripts/gpu/decode_check.py > "$R/decode.log" 2>&1
echo "decode rc=$? at $(el)"
cp "$R/causal_conv1d_cuda.so" "$OUT/" 2>/dev/null; rm -f "$R/causal_conv1d_cuda.so"
echo "== summary ($(el))"
tail -n 14 "$R/decode_sweep.log" | cut -c1-200
tail -n 25 "$R/compile_profile.log" | cut -c1-200
grep -E "name=|rows," "$R/interop.log" | cut -c1-260 | tail -n 12
grep -E "ok=False|rows," "$R/decode.log" | cut -c1-260 | tail -n 6
pack; rm -rf "$R"
