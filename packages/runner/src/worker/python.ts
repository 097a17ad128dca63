/**
 * Finding the Python interpreter and checking that torch and triton import.
 * Order: an explicit `--python`, env MAMBA2_PYTHON, the repo's .venv, then
 * python3 on PATH.
 */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { $ } from 'zx';
import { PythonDepsMissingError, PythonNotFoundError } from './errors.ts';

/** The monorepo root (the directory holding pnpm-workspace.yaml). */
export function repoRoot(from: string = dirname(fileURLToPath(import.meta.url))): string {
  let dir = resolve(from);
  for (;;) {
    if (existsSync(join(dir, 'pnpm-workspace.yaml'))) return dir;
    const up = dirname(dir);
    if (up === dir) return resolve(dirname(fileURLToPath(import.meta.url)), '../../../..');
    dir = up;
  }
}

/** Where the runner's Python package lives (goes on PYTHONPATH). */
export function runnerPythonPath(root = repoRoot()): string {
  return join(root, 'packages', 'runner', 'python');
}

export interface FindPythonOptions {
  /** An explicit interpreter (the CLI's --python). */
  readonly python?: string;
  readonly env?: NodeJS.ProcessEnv;
  readonly root?: string;
}

export interface FoundPython {
  readonly python: string;
  readonly source: '--python' | 'MAMBA2_PYTHON' | '.venv' | 'PATH';
}

async function runs(python: string): Promise<boolean> {
  const p = await $({ nothrow: true, quiet: true, timeout: '30s' })`${python} -c ${'import sys'}`;
  return p.exitCode === 0;
}

async function onPath(name: string, env: NodeJS.ProcessEnv): Promise<string | undefined> {
  for (const dir of (env.PATH ?? '').split(':')) {
    if (dir && existsSync(join(dir, name))) return join(dir, name);
  }
  return undefined;
}

export async function findPython(opts: FindPythonOptions = {}): Promise<FoundPython> {
  const env = opts.env ?? process.env;
  const root = opts.root ?? repoRoot();
  const candidates: { python: string; source: FoundPython['source'] }[] = [];
  if (opts.python) candidates.push({ python: opts.python, source: '--python' });
  if (env.MAMBA2_PYTHON) candidates.push({ python: env.MAMBA2_PYTHON, source: 'MAMBA2_PYTHON' });
  candidates.push({ python: join(root, '.venv', 'bin', 'python'), source: '.venv' });
  const tried: string[] = [];
  for (const c of candidates) {
    tried.push(`${c.source} ${c.python}`);
    // an explicit choice that does not run is an error, not a reason to fall through silently
    if (await runs(c.python)) return c;
    if (c.source !== '.venv') throw new PythonNotFoundError(tried);
  }
  const p3 = await onPath('python3', env);
  tried.push(`PATH python3${p3 ? ` (${p3})` : ' (not on PATH)'}`);
  if (p3 && (await runs(p3))) return { python: p3, source: 'PATH' };
  throw new PythonNotFoundError(tried);
}

export interface PythonVersions {
  readonly python: string;
  readonly torch: string;
  readonly triton: string;
}

const CHECK = `
import json, platform
out = {"python": platform.python_version(), "missing": [], "detail": []}
for name in ("torch", "triton"):
    try:
        out[name] = __import__(name).__version__
    except Exception as e:
        out["missing"].append(name)
        out["detail"].append(f"{name}: {type(e).__name__}: {e}")
print(json.dumps(out))
`;

/** Imports torch and triton in `python`; throws PythonDepsMissingError naming the fix. */
export async function checkPythonDeps(python: string): Promise<PythonVersions> {
  const p = await $({ nothrow: true, quiet: true, timeout: '120s' })`${python} -c ${CHECK}`;
  const last = p.stdout.trim().split('\n').pop() ?? '';
  let info: { python: string; torch?: string; triton?: string; missing: string[]; detail: string[] };
  try {
    info = JSON.parse(last);
  } catch {
    throw new PythonDepsMissingError(python, ['torch', 'triton'], `the check did not run: ${p.stderr.trim().slice(-300)}`);
  }
  if (info.missing.length || !info.torch || !info.triton) {
    throw new PythonDepsMissingError(python, info.missing, info.detail.join('; '));
  }
  return { python: info.python, torch: info.torch, triton: info.triton };
}
