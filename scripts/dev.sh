#!/usr/bin/env bash
# The two commands of the README, and what they need installed first.
#   bash scripts/dev.sh main   generate kernels-out/ and verify the default example
#                              (on the GPU when there is one, else on the CPU)
#   bash scripts/dev.sh test   every test: typecheck, vitest, pytest, and the
#                              check that kernels-out/ is what `pnpm gen` emits
# Both install what they need (pnpm, node_modules, the Python venv) on a fresh
# machine with Node 20 and Python 3.10+; re-running skips what is there.
set -euo pipefail
cd "$(dirname "$0")/.."

ensure_pnpm() {
  if ! command -v pnpm >/dev/null 2>&1 || [ "$(pnpm --version)" != "12.4.2" ]; then
    echo "==> installing pnpm 12.4.2" >&2
    npm install -g pnpm@12.4.2 >/dev/null 2>&1 || {
      echo "npm install -g pnpm@12.4.2 failed; install pnpm 12.4.2 yourself (https://pnpm.io/installation)" >&2
      exit 1
    }
  fi
  echo "==> pnpm install" >&2
  pnpm install --frozen-lockfile --reporter=silent
}

cmd="${1:-}"
case "$cmd" in
  main)
    ensure_pnpm
    bash scripts/setup-python.sh
    pnpm gen
    pnpm verify mamba2_simple
    ;;
  test)
    ensure_pnpm
    # On a 2-core CI machine the steps overlap where they do not depend on each
    # other: typecheck (node only) while the Python env installs, then gen:check
    # and vitest (one worker: its tests mostly wait on child processes) next to
    # pytest (one worker per core). A background step's output is printed after
    # pytest's; the exit status fails if any step failed.
    # One thread per process: pytest runs one worker per core and vitest's
    # Python children run beside them, so torch's default of a thread per core
    # oversubscribes the machine (measured: test_scan.py -n 2 takes 10% less
    # CPU and 13% less time with OMP_NUM_THREADS=1 on a 2-core machine).
    # (nproc reads OMP_NUM_THREADS: count the cores first.)
    cores="$(nproc)"
    export OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}"
    logs="$(mktemp -d)"
    trap 'rm -rf "$logs"' EXIT
    echo "==> typecheck (alongside the Python setup)" >&2
    ( rc=0; pnpm exec turbo run typecheck --output-logs=errors-only >"$logs/typecheck" 2>&1 || rc=$?; echo "$rc" >"$logs/typecheck.rc" ) &
    bash scripts/setup-python.sh
    wait
    cat "$logs/typecheck"
    [ "$(cat "$logs/typecheck.rc")" = 0 ] || { echo "typecheck failed" >&2; exit 1; }
    echo "==> chromium (the sweep report is checked in a real headless browser)" >&2
    bash scripts/install-chromium.sh
    echo "==> gen:check (kernels-out/ matches what pnpm gen emits), then vitest: alongside pytest, output after it" >&2
    ( rc=0; pnpm gen:check >"$logs/gen-check" 2>&1 || rc=$?; echo "$rc" >"$logs/gen-check.rc"
      rc=0; pnpm exec vitest run >"$logs/vitest" 2>&1 || rc=$?; echo "$rc" >"$logs/vitest.rc" ) &
    echo "==> pytest (CPU, Triton interpreter, one process per core, one test handed out at a time)" >&2
    py_rc=0
    bash scripts/pytest.sh -n "$cores" --maxschedchunk 1 || py_rc=$?
    wait
    echo "==> gen:check output" >&2
    cat "$logs/gen-check"
    echo "==> vitest output" >&2
    cat "$logs/vitest"
    gen_rc="$(cat "$logs/gen-check.rc")" ts_rc="$(cat "$logs/vitest.rc")"
    [ "$gen_rc" = 0 ] || echo "gen:check failed (exit $gen_rc): kernels-out/ is not what pnpm gen emits; run pnpm gen:all and commit" >&2
    [ "$ts_rc" = 0 ] || echo "vitest failed (exit $ts_rc)" >&2
    [ "$py_rc" = 0 ] || echo "pytest failed (exit $py_rc)" >&2
    [ "$gen_rc" = 0 ] && [ "$ts_rc" = 0 ] && [ "$py_rc" = 0 ]
    ;;
  *)
    echo "usage: bash scripts/dev.sh main|test" >&2
    exit 2
    ;;
esac
