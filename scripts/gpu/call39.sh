#!/usr/bin/env bash
# 2026-12-02d, fourth call (<= 400 s; carry .snap = main before the block ops dropped needs_exact_strides):
#   1. compile_diag (throughput timing, eager vs compiled with shape_padding on / off, kernels by name), on this
#      tree (block ops without the exact-strides tag) and on .snap (with it), Inductor's output code logged;
#   2. compile_check --reps 20 (the 18 rows) on this tree;
#   3. on cuda: test_block_fn (the padded row stride test) and test_compile.
set -u
CALL=call39; source "$(dirname "$0")/_call.sh"
TORCH_LOGS=output_code timeout 110 python3 scripts/gpu/compile_diag.py --out "$R" > "$R/diag.log" 2> "$R/output_code.txt"
echo "diag rc=$? at $(el)"
mkdir -p "$R/snap"
(cd .snap && TORCH_LOGS=output_code timeout 110 python3 scripts/gpu/compile_diag.py --out "$R/snap" > "$R/snap/diag.log" 2> "$R/snap/output_code.txt")
echo "diag snap rc=$? at $(el)"
OUT="$R" timeout 120 python3 scripts/gpu/compile_check.py --reps 20 > "$R/compile.log" 2>&1
echo "compile rc=$? at $(el)"
K=packages/kernels/python/tests
timeout 80 python3 -m pytest -q -p no:cacheprovider $K/test_block_fn.py $K/test_compile.py > "$R/tests.log" 2>&1
echo "tests rc=$? at $(el)"
echo "== summary ($(el))"
tail -n 4 "$R/diag.log" "$R/snap/diag.log"
grep -c "def triton_poi" "$R/output_code.txt" "$R/snap/output_code.txt"
tail -n 20 "$R/compile.log" | cut -c1-170
tail -n 2 "$R/tests.log"
pack; rm -rf "$R"
