#!/usr/bin/env bash
# Issue 13 on one H200 (16 cores), in two device calls with one local step between:
#
#   STAGE=sweep bash scripts/gpu/sweep13.sh   (< 240 s) kernel sweep of today's fused forward and v4
#       backward (tiles, warps, stages, split) at 4 shapes, and the model-level sweep (d_model
#       768/1536/2560 x headdim 32/64/128 x d_state 64/128 x Q 32/64/128 at 8 x 2048, block fwd+bwd),
#       the incumbent in every problem: $OUT/kernels.jsonl, $OUT/model.jsonl, $OUT/sweep.log
#   local (Node):  mkdir -p bench/sweeps/h200 && cp <fetched>/{kernels,model}.jsonl bench/sweeps/h200/
#                  pnpm gen:tuned          (bench/pkgs-tuned from kernels.jsonl: refuses another sha / GPU)
#                  pnpm report:tuning bench/sweeps/h200      (report.html + CSVs + SVGs)
#                  commit bench/sweeps/h200 and bench/pkgs-tuned
#   STAGE=tuned bash scripts/gpu/sweep13.sh   (< 90 s) the tuned and the default package side by side
#       on every swept forward shape: $OUT/tuned-vs-default.json (bench JSON, providers tuned/default);
#       then cp it to bench/results/<date>-h200-tuned-vs-default.json and pnpm report:tuning again.
#
# --smoke: the same stages on CPU under TRITON_INTERPRET=1 with tiny grids (minutes on 2 cores):
#   OUT=/tmp/s13 STAGE=sweep bash scripts/gpu/sweep13.sh --smoke
#   pnpm gen --tuned /tmp/s13/kernels.jsonl --out /tmp/s13/pkgs-tuned examples/mamba2-layer-dssm.ts
#   OUT=/tmp/s13 STAGE=tuned DEFAULT_PKGS=kernels-out TUNED_PKGS=/tmp/s13/pkgs-tuned SWEEP=/tmp/s13/kernels.jsonl \
#     bash scripts/gpu/sweep13.sh --smoke
# Packages: none is generated on the device (it has no Node): the sweeps build blocks from the kernel
# library (mamba2_runner/tuning/block.py); the tuned stage reads the committed bench/pkgs*.
set -u
cd "$(dirname "$0")/../.."
SMOKE=""
[ "${1:-}" = "--smoke" ] && SMOKE=--smoke
OUT=${OUT:-$(mktemp -d)}
mkdir -p "$OUT"
export PYTHONPATH="$PWD/packages/runner/python:$PWD/packages/kernels/python" PYTHONUNBUFFERED=1
# one compile cache for the check processes and the timing process (phase 1 fills it, phase 2 reads it)
export TRITON_CACHE_DIR=${TRITON_CACHE_DIR:-/tmp/triton-sweep13}
PY=${PYTHON:-python3}
if [ -n "$SMOKE" ]; then
  export TRITON_INTERPRET=1
  [ -x .venv/bin/python ] && PY=.venv/bin/python
fi
t0=$(date +%s)
case "${STAGE:-sweep}" in
sweep)
  [ -z "$SMOKE" ] && { nvidia-smi --query-gpu=name,driver_version,clocks.max.sm --format=csv,noheader || true; }
  # checks (parallel, 15 processes) stop at 60 % of the budget, timings at the budget
  timeout "${TIMEOUT:-232}" "$PY" -m mamba2_runner.tuning all --out-dir "$OUT" --budget-s "${BUDGET:-200}" \
    ${WORKERS:+--workers $WORKERS} $SMOKE > "$OUT/summary.txt" 2> "$OUT/sweep.log"
  echo "sweep exit $? after $(( $(date +%s) - t0 )) s"
  grep -E "^tuning:" "$OUT/sweep.log" | tail -n 6
  grep -cE "^ +(wrong|error|timeout|compile_error|out_of_resources|oom|skipped) " "$OUT/sweep.log" | sed 's/^/configs not ok: /'
  ;;
tuned)
  timeout "${TIMEOUT:-85}" "$PY" -m mamba2_runner.tuning tuned --default "${DEFAULT_PKGS:-bench/pkgs}" \
    --tuned "${TUNED_PKGS:-bench/pkgs-tuned}" --sweep "${SWEEP:-bench/sweeps/h200/kernels.jsonl}" \
    --out "$OUT/tuned-vs-default.json" > "$OUT/summary.txt" 2> "$OUT/tuned.log"
  echo "tuned exit $? after $(( $(date +%s) - t0 )) s"
  grep -E "^tuned:" "$OUT/tuned.log" | tail -n 12
  ;;
*) echo "STAGE must be sweep or tuned, got ${STAGE}" >&2; exit 2 ;;
esac
echo "== summary"
cat "$OUT/summary.txt"
