#!/usr/bin/env bash
# (Ran at fe90ac2; after it the scratch form and MAMBA2_CONV_BWD were removed and the two launches take the forward's 64-row tile, the winner here.)
# Last call of 2026-12-02 (<= 245 s; carry .baseline; the session's device budget ends with it).
#   1. conv_bench.py: the conv backward's forms ('two' at several tiles, 'scratch'), checked vs float64, timed
#      at the two blocks' conv shapes; its WINNER is exported as MAMBA2_CONV_BWD for 2;
#   2. bwd_bench at (4, 4096, 80), the default v6 (pair kernel queued before the host waits on the flag's event):
#      fwd+bwd - bwd against call22's 0.44-0.52 ms and call24's 1.0-1.1;
#   3. block_profile.py at d_model 2560 with that form: ours vs mamba_ssm_fused, wall and GPU time per fwd+bwd;
#   4. crossscan_bench.py, bidirectional (4, 4096, 80): merge 'chain' (the new default) and the
#      backward through v6 in every order, vs mamba_ssm_perm; each row's output checked vs float64 and its
#      gradients vs mamba_ssm_perm's before it is timed.
# Packed into $OUT/call25.tar.gz.
set -u
cd "$(dirname "$0")/../.."
export PYTHONPATH=$PWD/packages/runner/python:$PWD/packages/kernels/python PYTHONUNBUFFERED=1
R=$OUT/call25; mkdir -p "$R"; t0=$(date +%s); el() { echo "$(( $(date +%s) - t0 )) s"; }
nvidia-smi --query-compute-apps=pid,name --format=csv
timeout 50 python3 scripts/gpu/conv_bench.py --out "$R" > "$R/conv_bench.log" 2>&1; echo "conv_bench rc=$? at $(el)"
W=$(sed -n 's/^WINNER //p' "$R/conv_bench.log"); export MAMBA2_CONV_BWD=${W:-two}; echo "conv form: $MAMBA2_CONV_BWD"
timeout 45 python3 scripts/gpu/bwd_bench.py --out "$R" --no-z --shapes 0 --variants v6-sub64-ns1 \
  > "$R/bwd_bench.log" 2>&1; echo "bwd_bench rc=$? at $(el)"
timeout 60 python3 scripts/gpu/block_profile.py --out "$R" > "$R/block_profile.log" 2>&1; echo "block_profile rc=$? at $(el)"
unset MAMBA2_CONV_BWD
timeout $(( 240 - ($(date +%s) - t0) )) python3 scripts/gpu/crossscan_bench.py --skip-checks --cases bidirectional \
  --providers mamba_ssm_perm,generated-chain,generated --out "$R/crossscan-bidirectional.json" > "$R/crossscan-bi.log" 2>&1
echo "crossscan bidirectional rc=$? at $(el)"
tar -czf "$OUT/call25.tar.gz" -C "$OUT" call25
echo "== summary ($(el))"
sed -n '/^form/,$p' "$R/conv_bench.log"; grep -E "^check" "$R/bwd_bench.log"; sed -n '/^shape/,$p' "$R/bwd_bench.log"
grep -E "== " "$R/block_profile_2560.txt"; grep -E "ms  err" "$R/crossscan-bi.log" | cut -c1-160
