#!/usr/bin/env bash
# Device call for issue 11 done-when 3 (the fused forward vs the pre-restructure package at 64 heads;
# NOTES "Forward vs the old package at 64 heads (2026-12-01e, CPU analysis, NOT measured)").
# <= 300 s. Carry .old-pkgs, .pre-nan, .baseline.
#   - pytest on cuda: test_fused_rerun (both re-walk forms: the called re-walk, one launch; and the
#     second launch that walks only flagged programs) and test_nonfinite;
#   - nan_cost, 5 rounds: `new` (the patched default: ssd_fused_dispatch.pick_rerun, "launch" at
#     (8, 2048, 64) and g8, "call" elsewhere) against `call` and `launch` (copies of this library with
#     RERUN_FORM forced), `main` (main's library without the patch), `mask` (the default + the plain walk's decay mask on the exponent, 631a99a's
#     form: its loop is the old package's instruction for instruction; NOT in the library: with an Inf
#     in C and no seq_idx it gives NaN where the exact walk may give Inf, unflagged), `.pre-nan` and
#     the old package (631a99a), side by side in one process.
#   What to read: new/old fwd within +-3% at every shape (issue 11); launch < call at the two
#   64-head shapes and call <= launch at the other three (the policy's premise); mask vs new (the
#   rest of the gap to old); fwd+bwd unchanged.
# Packed into $OUT/call16.tar.gz.
set -u
cd "$(dirname "$0")/../.."
export PYTHONPATH=$PWD/packages/runner/python:$PWD/packages/kernels/python PYTHONUNBUFFERED=1
R=$OUT/call16; mkdir -p "$R"; t0=$(date +%s); el() { echo "$(( $(date +%s) - t0 )) s"; }
{ nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.mem --format=csv
  python3 -c "import torch, triton, sys; print(sys.version.split()[0], torch.__version__, triton.__version__)"
  git log -1 --format='tree of %H' 2>/dev/null; } > "$R/env.txt" 2>&1
# main's library as it is (`main`), then the candidate patch applied to this copy (NOTES "Forward vs the
# old package at 64 heads": the re-walk in a second launch where SMs hold 1-2 programs)
F=/tmp/call16-forms; rm -rf "$F"; mkdir -p "$F/main" && cp -r packages/kernels/python/mamba2_kernels "$F/main/"
git apply scripts/gpu/patches/fwd-rerun-launch.patch || patch -p1 < scripts/gpu/patches/fwd-rerun-launch.patch \
  || { echo "call16: the patch does not apply"; exit 3; }
K=packages/kernels/python/tests
timeout 60 python3 -m pytest -q -p no:cacheprovider -rfE --tb=short $K/test_fused_rerun.py \
  > "$R/pytest.log" 2>&1; echo "pytest rc=$? at $(el)"
for form in call launch; do
  mkdir -p "$F/$form" && cp -r packages/kernels/python/mamba2_kernels "$F/$form/"
  sed -i "s/^RERUN_FORM = \"auto\"/RERUN_FORM = \"$form\"/" "$F/$form/mamba2_kernels/kernels/ssd_fused_dispatch.py"
  grep -q "^RERUN_FORM = \"$form\"" "$F/$form/mamba2_kernels/kernels/ssd_fused_dispatch.py" || echo "call16: forcing $form failed"
done
mkdir -p "$F/mask" && cp -r packages/kernels/python/mamba2_kernels "$F/mask/"
python3 - "$F/mask/mamba2_kernels/kernels/ssd_fused.py" <<'EOF'
import sys
p = sys.argv[1]; s = open(p).read()
old = "        b_WT = tl.where(m_ij, b_G * tl.exp2(b_cs[None, :] - b_cs[:, None]) * b_dt[:, None], 0.0)\n"
new = ("        if EXACT:\n    " + old + "        else:\n            b_WT = b_G * tl.exp2(tl.where(m_ij, b_cs[None, :] - b_cs[:, None], "
       "-float('inf'))) * b_dt[:, None]\n")
assert s.count(old) == 1, "call16: the mask line moved"
open(p, "w").write(s.replace(old, new))
EOF
timeout $(( 285 - ($(date +%s) - t0) )) python3 scripts/gpu/nan_cost.py --compare main=$F/main --compare call=$F/call --compare launch=$F/launch --compare mask=$F/mask \
  --compare pre=.pre-nan --compare old=.old-pkgs/kernels-out/mamba2_simple --rounds 5 \
  --out "$R/nan_cost.json" > "$R/nan_cost.log" 2>&1; echo "nan_cost rc=$? at $(el)"
tar -czf "$OUT/call16.tar.gz" -C "$OUT" call16
echo "== summary ($(el))"
tail -n 6 "$R/pytest.log"; grep -v Warning "$R/nan_cost.log" | tail -n 16
