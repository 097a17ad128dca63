#!/usr/bin/env bash
# First device call of 2026-12-01f (<= 520 s; carry .old-pkgs .pre-nan .baseline): call16 (the forward
# re-walk patch A/B, issue 11 done-when 3) then call17 (where the seed block's fwd+bwd time goes, issue 9),
# on a fresh machine, timing first. Each packs its own tarball; this one prints both summaries.
set -u
cd "$(dirname "$0")/../.."
nvidia-smi --query-compute-apps=pid,name --format=csv
# call17 runs on main's library (without the patch call16 applies): keep a pristine copy
cp -r packages/kernels/python/mamba2_kernels /tmp/call18-main-lib
bash scripts/gpu/call16.sh
rm -rf packages/kernels/python/mamba2_kernels && cp -r /tmp/call18-main-lib packages/kernels/python/mamba2_kernels
git diff --stat -- packages/kernels | tail -1
bash scripts/gpu/call17.sh
