#!/usr/bin/env bash
# Extract the baseline (mamba_ssm's Triton SSD kernels, Mamba2Simple and its
# fused block path) into .baseline/mamba_ssm (ignored by git). Only Python
# sources are copied: the bench imports them through a loader that skips the
# package __init__ files (mamba2_runner/bench/baseline.py: load_mamba_ssm).
# causal-conv1d's CUDA extension, which the fused block path
# (mamba_split_conv1d_scan_combined, provider mamba_ssm_fused) needs, is built
# on the GPU machine with ../shared/baseline/build_causal_conv1d.py and lives
# beside it: .baseline/causal_conv1d_cuda.so + .baseline/causal-conv1d/
# (causal_conv1d/ and csrc/ of Dao-AILab/causal-conv1d v1.6.1.post4).
# The baseline is only RUN, never copied into the project.
#
#   scripts/fetch-baseline.sh [GIT_DIR] [REF]
#   GIT_DIR: a git dir of github.com/state-spaces/mamba
#            (default /work/.mirror/state-spaces+mamba/repo, env MAMBA_GIT_DIR)
#   REF:     tag or commit (default v2.3.2.post1, env MAMBA_REF)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
GIT_DIR="${1:-${MAMBA_GIT_DIR:-/work/.mirror/state-spaces+mamba/repo}}"
REF="${2:-${MAMBA_REF:-v2.3.2.post1}}"
DEST="$ROOT/.baseline"

if ! git --git-dir="$GIT_DIR" rev-parse --verify -q "$REF^{commit}" >/dev/null; then
  echo "fetch-baseline: $REF not found in $GIT_DIR. Clone https://github.com/state-spaces/mamba (bare is fine) and pass its git dir." >&2
  exit 1
fi

# Every mamba_ssm module that the SSD (mamba_chunk_scan_combined), Mamba2Simple
# in both paths (use_mem_eff_path=False / True: mamba_split_conv1d_scan_combined)
# and the decode step (selective_state_update) import; the package __init__
# files are kept for completeness but the loader never runs them.
FILES=(
  mamba_ssm/__init__.py
  mamba_ssm/ops/__init__.py
  mamba_ssm/ops/triton/__init__.py
  mamba_ssm/ops/triton/ssd_bmm.py
  mamba_ssm/ops/triton/ssd_chunk_scan.py
  mamba_ssm/ops/triton/ssd_chunk_state.py
  mamba_ssm/ops/triton/ssd_combined.py
  mamba_ssm/ops/triton/ssd_state_passing.py
  mamba_ssm/ops/triton/layernorm_gated.py
  mamba_ssm/ops/triton/layer_norm.py
  mamba_ssm/ops/triton/softplus.py
  mamba_ssm/ops/triton/k_activations.py
  mamba_ssm/ops/triton/selective_state_update.py
  mamba_ssm/utils/__init__.py
  mamba_ssm/utils/torch.py
  mamba_ssm/utils/determinism.py
  mamba_ssm/modules/__init__.py
  mamba_ssm/modules/mamba2_simple.py
  # the full layer and the language model (issue 10's interop check:
  # load_mamba_ssm_models; Mamba1, attention and the hub loaders never run)
  mamba_ssm/modules/mamba2.py
  mamba_ssm/modules/block.py
  mamba_ssm/modules/mha.py
  mamba_ssm/modules/mlp.py
  mamba_ssm/models/__init__.py
  mamba_ssm/models/config_mamba.py
  mamba_ssm/models/mixer_seq_simple.py
  mamba_ssm/utils/generation.py
  mamba_ssm/distributed/__init__.py
  mamba_ssm/distributed/tensor_parallel.py
  mamba_ssm/distributed/distributed_utils.py
  LICENSE
)

rm -rf "$DEST/mamba_ssm"
mkdir -p "$DEST"
git --git-dir="$GIT_DIR" archive --format=tar "$REF" -- "${FILES[@]}" | tar -x -C "$DEST"
COMMIT="$(git --git-dir="$GIT_DIR" rev-parse "$REF^{commit}")"
mv "$DEST/LICENSE" "$DEST/mamba_ssm/LICENSE"
printf '{"repo": "state-spaces/mamba", "ref": "%s", "commit": "%s"}\n' "$REF" "$COMMIT" > "$DEST/mamba_ssm/BASELINE.json"
echo "fetch-baseline: mamba_ssm $REF ($COMMIT) -> $DEST/mamba_ssm ($(du -sh "$DEST/mamba_ssm" | cut -f1))"
