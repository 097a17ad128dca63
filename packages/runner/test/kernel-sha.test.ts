/**
 * codegen (TS: the LaunchConfig's kernel_sha, gen --tuned's comparison) and the
 * sweeps (Python: mamba2_runner.sweep_provenance, tuning/engine record_sha)
 * file a kernel under the same sha: one hash over every library file it
 * depends on. Both are compared with the definition computed here from the
 * files (sha256 of the sorted lines "<path> <sha256 of the file>\n").
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { KERNEL_DEPENDENCIES, kernelSetSha, LAUNCH_KERNELS } from '@mamba2/codegen';
import { describe, expect, it } from 'vitest';
import { findPython, runnerPythonPath } from '../src/worker/python.ts';
import { REPO_ROOT } from '../src/sweep/prepare.ts';

const LIBRARY = join(REPO_ROOT, 'packages/kernels/python/mamba2_kernels');
const sha256 = (s: string | Buffer): string => createHash('sha256').update(s).digest('hex');

const PY = `
import json
from pathlib import Path
from mamba2_runner.sweep_provenance import KERNEL_DEPS, kernel_set_sha
from mamba2_runner.tuning import engine
lib = Path(${JSON.stringify(LIBRARY)})
shas = engine.kernel_shas(lib)
print(json.dumps({"deps": {k: list(v) for k, v in KERNEL_DEPS.items()},
                  "sha": {k: kernel_set_sha(lib, k) for k in KERNEL_DEPS},
                  "fwd": engine.record_sha("fwd", shas), "bwd": engine.record_sha("bwd", shas)}))
`;

describe('the kernel sha in TypeScript and Python', () => {
  it('is the same table of files and the same hash of the real library on both sides, equal to the definition', async () => {
    const { python } = await findPython();
    const out = execFileSync(python, ['-c', PY], { env: { ...process.env, PYTHONPATH: runnerPythonPath(REPO_ROOT) }, encoding: 'utf8' });
    const py = JSON.parse(out) as { deps: Record<string, string[]>; sha: Record<string, string>; fwd: string; bwd: string };
    expect(py.deps).toEqual(KERNEL_DEPENDENCIES);
    for (const [entry, files] of Object.entries(KERNEL_DEPENDENCIES)) {
      const spec = sha256([...files].sort().map((f) => `${f} ${sha256(readFileSync(join(LIBRARY, f)))}\n`).join(''));
      expect(kernelSetSha(entry, (f) => readFileSync(join(LIBRARY, f), 'utf8')), entry).toBe(spec);
      expect(py.sha[entry], entry).toBe(spec);
    }
    expect(py.fwd).toBe(py.sha[LAUNCH_KERNELS.fused]);
    expect(py.bwd).toBe(py.sha[LAUNCH_KERNELS.bwd]);
  });
});
