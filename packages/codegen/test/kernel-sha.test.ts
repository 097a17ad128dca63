/**
 * A kernel's sha covers every library file its behaviour lives in (issue 13):
 * the entry file and what it imports inside mamba2_kernels/
 * (KERNEL_DEPENDENCIES), combined as sha256 of the sorted lines
 * "<path> <sha256 of the file>\n". Expected values are computed here from the
 * files with node:crypto, never by the code under test.
 */
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, posix } from 'node:path';
import { describe, expect, it } from 'vitest';
import { GENERATED_LIBRARY_FILES, KERNEL_DEPENDENCIES, LAUNCH_KERNELS } from '../src/lower/launch.ts';
import { DEFAULT_LIBRARY_DIR, libraryFileShas, librarySetSha } from '../src/emit/library.ts';
import { renderPackage } from '../src/generate.ts';
import { kernelSetSha, tunedFor, type SweepRow } from '../src/tuned.ts';
import { seedModel } from './fixtures/graphs.ts';

const sha256 = (s: string): string => createHash('sha256').update(s).digest('hex');

/** Library files `rel` imports with a relative import (`from .x import`, `from . import x`, `from ..x import`), at any indent. */
function relativeImports(root: string, rel: string): string[] {
  const here = posix.dirname(rel);
  const out: string[] = [];
  for (const m of readFileSync(join(root, rel), 'utf8').matchAll(/^[ \t]*from[ \t]+(\.+)([\w.]*)[ \t]+import[ \t]+\(?([^)\n#]*)/gm)) {
    let base = here;
    for (let i = 1; i < m[1]!.length; i++) base = posix.dirname(base);
    if (m[2] !== '') {
      out.push(posix.normalize(posix.join(base, `${m[2]!.replace(/\./g, '/')}.py`)));
    } else {
      for (const name of m[3]!.split(',').map((n) => n.trim().split(/\s+/)[0]!).filter((n) => n !== '')) {
        const mod = posix.normalize(posix.join(base, `${name}.py`));
        out.push(existsSync(join(root, mod)) ? mod : posix.normalize(posix.join(base, '__init__.py')));
      }
    }
  }
  return out;
}

function closure(root: string, entry: string): string[] {
  const seen = new Set<string>();
  const todo = [entry];
  while (todo.length > 0) {
    const f = todo.pop()!;
    if (seen.has(f) || GENERATED_LIBRARY_FILES.includes(f)) continue;
    seen.add(f);
    todo.push(...relativeImports(root, f));
  }
  return [...seen].sort();
}

/** The definition, from the files' text. */
const specSha = (root: string, files: readonly string[]): string =>
  sha256([...files].sort().map((f) => `${f} ${sha256(readFileSync(join(root, f), 'utf8'))}\n`).join(''));

describe('the kernel sha', () => {
  it.each(Object.keys(KERNEL_DEPENDENCIES))('of %s covers exactly the closure of its relative imports inside the library', (entry) => {
    expect(KERNEL_DEPENDENCIES[entry], `lower/launch.ts KERNEL_DEPENDENCIES['${entry}'] is stale (and sweep_provenance.KERNEL_DEPS)`)
      .toEqual(closure(DEFAULT_LIBRARY_DIR, entry));
  });

  it('is recorded for every kernel a LaunchConfig names, as the definition over the library files', () => {
    expect(closure(DEFAULT_LIBRARY_DIR, LAUNCH_KERNELS.fused)).toContain('kernels/ssd_fused_dispatch.py');
    for (const k of Object.values(LAUNCH_KERNELS)) {
      expect(KERNEL_DEPENDENCIES[k], k).toBeDefined();
      expect(librarySetSha(DEFAULT_LIBRARY_DIR, k), k).toBe(specSha(DEFAULT_LIBRARY_DIR, KERNEL_DEPENDENCIES[k]!));
    }
  });

  it('changes when only ssd_fused_dispatch.py changes, and gen --tuned then refuses a table measured before, naming the file and the fix', () => {
    const before = mkdtempSync(join(tmpdir(), 'kernel-sha-a-'));
    const after = mkdtempSync(join(tmpdir(), 'kernel-sha-b-'));
    cpSync(DEFAULT_LIBRARY_DIR, before, { recursive: true, filter: (p) => !p.includes('__pycache__') });
    cpSync(DEFAULT_LIBRARY_DIR, after, { recursive: true, filter: (p) => !p.includes('__pycache__') });
    const dispatch = join(after, 'kernels/ssd_fused_dispatch.py');
    writeFileSync(dispatch, readFileSync(dispatch, 'utf8').replace('\n', '\n# retuned\n'));

    const [a, b] = [before, after].map((dir) => renderPackage(seedModel(), { libraryDir: dir }).launch);
    expect(b!.fused.kernelSha).not.toBe(a!.fused.kernelSha);
    expect(b!.fused.kernelSha).toBe(specSha(after, KERNEL_DEPENDENCIES[LAUNCH_KERNELS.fused]!));
    expect(b!.bwd.kernelSha).toBe(a!.bwd.kernelSha); // the backward does not import the forward's dispatch
    const pkg = renderPackage(seedModel(), { libraryDir: after });
    expect(kernelSetSha(LAUNCH_KERNELS.fused, (f) => pkg.files.get(`mamba2_simple/${f}`) ?? null)).toBe(b!.fused.kernelSha);

    const row: SweepRow = {
      kind: 'fwd', provider: 'ours', status: 'ok', shape: { batch: 4, seqlen: 4096, nheads: 80, headdim: 64 },
      params: { block_q: 64 }, ms: 0.6, speedup: 1.5, confirm_speedup: 1.5, noise: 0.02, kernel_sha: a!.fused.kernelSha,
      kernel_shas: libraryFileShas(before, LAUNCH_KERNELS.fused), provenance: { gpu_model: 'NVIDIA H200' },
    };
    expect(tunedFor([row], 64, librarySetSha(before, LAUNCH_KERNELS.fused), 'r.jsonl').table.rows).toHaveLength(1);
    const refuse = () => tunedFor([row], 64, librarySetSha(after, LAUNCH_KERNELS.fused), 'r.jsonl', null,
      libraryFileShas(after, LAUNCH_KERNELS.fused));
    expect(refuse).toThrow(`with kernel sha ${a!.fused.kernelSha!.slice(0, 12)}, but this package's has sha ${b!.fused.kernelSha!.slice(0, 12)} ` +
      '(kernels/ssd_fused_dispatch.py changed since); the sha covers kernels/ssd_fused.py and what it imports (');
    expect(refuse).toThrow(/Re-run the sweep on the current kernels \(pnpm sweep:kernels/);
  });
});
