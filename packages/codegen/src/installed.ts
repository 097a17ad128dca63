/**
 * Package names that an installed top-level Python module already uses.
 *
 * The DSL refuses standard-library and dependency names statically
 * (@mamba2/dsl python-names.ts); what else is installed depends on the
 * interpreter the package will be installed into, so `pnpm gen` asks it.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suggestPackageName } from '@mamba2/dsl';

export class InstalledModuleError extends Error {
  override readonly name = 'InstalledModuleError';
}

/** $MAMBA2_PYTHON, else the repo's .venv, else python3 on PATH. */
export function targetPython(root: string): string {
  const env = process.env['MAMBA2_PYTHON'];
  if (env !== undefined && env !== '') return env;
  const venv = join(root, '.venv', 'bin', 'python');
  return existsSync(venv) ? venv : 'python3';
}

// Prints {name: origin} for each name an installed module (not one of our
// generated packages, which carry ir.json next to _config.py) already has.
const PROBE = `
import importlib.util, json, os, sys
out = {}
for name in sys.argv[1:]:
    try:
        spec = importlib.util.find_spec(name)
    except (ImportError, ValueError):
        spec = None
    if spec is None:
        continue
    where = list(spec.submodule_search_locations or [])
    if where and all(os.path.exists(os.path.join(d, "ir.json")) and os.path.exists(os.path.join(d, "_config.py")) for d in where):
        continue
    out[name] = spec.origin if spec.origin not in (None, "namespace") else (where[0] if where else "?")
print(json.dumps(out))
`;

/**
 * Throws InstalledModuleError for the first name an installed module already
 * has. Without a Python interpreter there is nothing to ask: returns quietly.
 */
export function refuseInstalledNames(names: readonly { name: string; where: string }[], python: string): void {
  if (names.length === 0) return;
  let found: Record<string, string>;
  try {
    // cwd: a temp folder, so the current folder's own files do not count as installed.
    const text = execFileSync(python, ['-E', '-c', PROBE, ...names.map((n) => n.name)], {
      cwd: tmpdir(),
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
      timeout: 30_000,
    });
    found = JSON.parse(text) as Record<string, string>;
  } catch {
    return;
  }
  for (const { name, where } of names) {
    const origin = found[name];
    if (origin === undefined) continue;
    throw new InstalledModuleError(
      `package name '${name}' (${where}) is already an installed module of ${python}: ${origin}; ` +
        `installing the generated package would replace it. Use name '${suggestPackageName(`${name}_block`)}' in the model file (name: '...').`,
    );
  }
}
