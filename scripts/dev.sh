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
    # other. The Python setup (pip, then byte-compiling) keeps one core busy;
    # next to it run the node-only steps: typecheck, gen:check (--check runs
    # no Python) and the DSL's vitest files (packages/dsl: no Python either).
    # Then pytest (one worker per core) and, next to it, the rest of vitest
    # (one worker: its tests mostly wait on child processes). The background
    # steps' output is printed after pytest's; the exit status fails if any
    # step failed.
    # One thread per process: pytest runs one worker per core and vitest's
    # Python children run beside them, so torch's default of a thread per core
    # oversubscribes the machine (measured: test_scan.py -n 2 takes 10% less
    # CPU and 13% less time with OMP_NUM_THREADS=1 on a 2-core machine).
    # (nproc reads OMP_NUM_THREADS: count the cores first.)
    cores="$(nproc)"
    export OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}"
    logs="$(mktemp -d)"
    trap 'rm -rf "$logs"' EXIT
    step() {  # step NAME CMD...: run CMD, its output to $logs/NAME, its exit code to $logs/NAME.rc
      local name="$1" rc=0
      shift
      "$@" >"$logs/$name" 2>&1 || rc=$?
      echo "$rc" >"$logs/$name.rc"
    }
    echo "==> typecheck, gen:check and the DSL's vitest (node only) alongside the Python setup, then the rest of vitest alongside pytest; their output after pytest's" >&2
    # Niced: they fill the core the setup leaves idle and must not slow the
    # setup down, which everything after it waits for. Whatever of them is
    # left when the setup ends runs in what pytest and vitest leave over.
    ( step typecheck nice -n 15 pnpm exec turbo run typecheck --output-logs=errors-only
      step gen-check nice -n 15 pnpm gen:check
      step vitest-dsl nice -n 15 pnpm exec vitest run packages/dsl ) &
    ( until [ -e "$logs/python-ready" ]; do [ -d "$logs" ] || exit 1; sleep 1; done
      step vitest pnpm exec vitest run --exclude 'packages/dsl/**' ) &
    bash scripts/setup-python.sh
    echo "==> chromium (the sweep report is checked in a real headless browser)" >&2
    bash scripts/install-chromium.sh
    touch "$logs/python-ready"
    echo "==> pytest (CPU, Triton interpreter, one process per core, one test handed out at a time)" >&2
    py_rc=0
    bash scripts/pytest.sh -n "$cores" --maxschedchunk 1 || py_rc=$?
    wait
    for name in typecheck gen-check vitest-dsl vitest; do
      echo "==> $name output" >&2
      cat "$logs/$name"
    done
    tc_rc="$(cat "$logs/typecheck.rc")" dsl_rc="$(cat "$logs/vitest-dsl.rc")"
    [ "$tc_rc" = 0 ] || echo "typecheck failed (exit $tc_rc)" >&2
    [ "$dsl_rc" = 0 ] || echo "vitest of packages/dsl failed (exit $dsl_rc)" >&2
    gen_rc="$(cat "$logs/gen-check.rc")" ts_rc="$(cat "$logs/vitest.rc")"
    [ "$gen_rc" = 0 ] || echo "gen:check failed (exit $gen_rc): kernels-out/ is not what pnpm gen emits; run pnpm gen:all and commit" >&2
    [ "$ts_rc" = 0 ] || echo "vitest failed (exit $ts_rc)" >&2
    [ "$py_rc" = 0 ] || echo "pytest failed (exit $py_rc)" >&2
    [ "$tc_rc" = 0 ] && [ "$gen_rc" = 0 ] && [ "$dsl_rc" = 0 ] && [ "$ts_rc" = 0 ] && [ "$py_rc" = 0 ]
    ;;
  *)
    echo "usage: bash scripts/dev.sh main|test" >&2
    exit 2
    ;;
esac
