/**
 * The runner's own failures, one class per condition. Each message says what
 * went wrong, with the values, and the fix. Errors raised by Python code pass
 * through as `PythonError` carrying the Python traceback.
 */

export const SETUP_FIX = 'bash scripts/setup-python.sh';

export class RunnerError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** No interpreter at any of the places we look. */
export class PythonNotFoundError extends RunnerError {
  constructor(readonly tried: readonly string[]) {
    super(
      `no Python interpreter found (tried: ${tried.join(', ')}). ` +
        `Fix: run \`${SETUP_FIX}\` (creates .venv with torch and triton), ` +
        'or pass --python /path/to/python, or set MAMBA2_PYTHON.',
    );
  }
}

/** The interpreter runs but torch or triton does not import. */
export class PythonDepsMissingError extends RunnerError {
  constructor(
    readonly python: string,
    readonly missing: readonly string[],
    readonly detail: string,
  ) {
    super(
      `${python} cannot import ${missing.join(' and ')}${detail ? ` (${detail})` : ''}. ` +
        `Fix: run \`${SETUP_FIX}\`, or \`${python} -m pip install torch==2.13.0 triton==3.6.0\`.`,
    );
  }
}

/** A request ran past its timeout; the worker was killed and will be restarted. */
export class WorkerTimeoutError extends RunnerError {
  constructor(
    readonly op: string,
    readonly timeoutMs: number,
    readonly pid: number | undefined,
  ) {
    super(
      `the Python worker (pid ${pid ?? '?'}) did not answer op "${op}" within ${timeoutMs} ms; ` +
        'it was killed and the next request starts a fresh worker. ' +
        'Pass a longer timeout (e.g. --timeout) if the op is just slow (the CPU interpreter is).',
    );
  }
}

/** The worker process exited while starting or while requests were pending. */
export class WorkerCrashedError extends RunnerError {
  constructor(
    readonly op: string | undefined,
    readonly exitCode: number | null,
    readonly signal: string | null,
    readonly stderrTail: readonly string[],
  ) {
    const how = signal ? `was killed by ${signal}` : `exited with code ${exitCode}`;
    const during = op ? `during op "${op}"` : 'before it was ready';
    const tail = stderrTail.length
      ? `\nlast stderr lines:\n${stderrTail.map((l) => `  | ${l}`).join('\n')}`
      : ' (no stderr output)';
    super(
      `the Python worker ${how} ${during}. The next request starts a fresh worker; ` +
        `if it keeps crashing, run \`pnpm run doctor\` (plain \`pnpm doctor\` is pnpm's own command).${tail}`,
    );
  }
}

/** The worker wrote something on stdout that is not a protocol line. */
export class WorkerProtocolError extends RunnerError {
  constructor(readonly line: string) {
    super(
      `the Python worker wrote a line that is not part of the JSON-lines protocol: ${JSON.stringify(line.slice(0, 300))}. ` +
        'Python output must go to stderr (the worker redirects print); something wrote to the real stdout.',
    );
  }
}

/** A Python exception raised by an op, with its traceback. */
export class PythonError extends RunnerError {
  constructor(
    readonly op: string,
    readonly pythonType: string,
    readonly pythonMessage: string,
    readonly traceback: string,
  ) {
    super(`op "${op}" raised ${pythonType}: ${pythonMessage}\n${traceback.trimEnd()}`);
  }
}
