# Sourced by scripts/gpu/callNN.sh: the preamble every device call shares.
#   CALL=call36; source scripts/gpu/_call.sh   ->  cd to the repo, PYTHONPATH, $R (= $OUT/$CALL), el (elapsed),
#   $R/env.txt (GPU, clocks, HEAD), pack (tar $R into $OUT/$CALL.tar.gz; then rm -rf $R: at most 8 files
#   come back from $OUT).
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
export PYTHONPATH=$PWD/packages/runner/python:$PWD/packages/kernels/python PYTHONUNBUFFERED=1
R=$OUT/$CALL; mkdir -p "$R"; t0=$(date +%s)
el() { echo "$(( $(date +%s) - t0 )) s"; }
nvidia-smi --query-gpu=name,clocks.sm,clocks.mem --format=csv > "$R/env.txt" 2>&1
git log -1 --format=%H >> "$R/env.txt" 2>/dev/null
pack() { tar -czf "$OUT/$CALL.tar.gz" -C "$OUT" "$CALL"; }
# causal-conv1d's extension: carried in .baseline/ after the first build; else built here (about 3 min)
build_cc1d() {
  if [ -f .baseline/causal_conv1d_cuda.so ]; then echo "cc1d: carried"; return 0; fi
  rm -f /tmp/cc1d/lock
  (cd .baseline && MAX_JOBS=${CC1D_JOBS:-12} timeout 400 python3 build_causal_conv1d.py causal-conv1d --out "$R" > "$R/cc1d.log" 2>&1) \
    && cp "$R/causal_conv1d_cuda.so" .baseline/ && echo "cc1d: built at $(el)"
}
