import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkPackage, generatePackage, PackageDirError, renderPackage, GENERATOR_VERSION } from '../src/index.ts';
import { seedModel } from './fixtures/graphs.ts';

const tmp = () => mkdtempSync(join(tmpdir(), 'mamba2-codegen-'));

describe('emit', () => {
  it('renders byte-identical files for the same graph twice', () => {
    const a = renderPackage(seedModel());
    const b = renderPackage(seedModel());
    expect([...a.files.keys()]).toEqual([...b.files.keys()]);
    for (const [path, text] of a.files) expect(b.files.get(path), path).toBe(text);
  });

  it('writes the same bytes into two output folders', async () => {
    const [d1, d2] = [tmp(), tmp()];
    const r1 = await generatePackage(seedModel(), { outDir: d1 });
    const r2 = await generatePackage(seedModel(), { outDir: d2 });
    expect(r1.files).toEqual(r2.files);
    for (const f of r1.files) expect(readFileSync(join(r2.dir, f))).toEqual(readFileSync(join(r1.dir, f)));
  });

  it('lists the contract files, sorted, with the kernels the plan needs', () => {
    expect([...renderPackage(seedModel()).files.keys()]).toEqual([
      'mamba2_simple/__init__.py', 'mamba2_simple/_config.py', 'mamba2_simple/autograd.py', 'mamba2_simple/functional.py',
      'mamba2_simple/inference.py', 'mamba2_simple/ir.json', 'mamba2_simple/kernels/__init__.py', 'mamba2_simple/kernels/conv.py',
      'mamba2_simple/kernels/conv_bwd.py', 'mamba2_simple/kernels/dt.py', 'mamba2_simple/kernels/norm.py',
      'mamba2_simple/kernels/norm_bwd.py', 'mamba2_simple/kernels/ssd_bwd.py', 'mamba2_simple/kernels/ssd_chunked.py',
      'mamba2_simple/kernels/ssd_decode.py', 'mamba2_simple/kernels/ssd_fused.py',
      'mamba2_simple/module.py', 'manifest.json', 'pyproject.toml',
    ]);
    expect(renderPackage(seedModel({ tail: 'gate' })).files.has('mamba2_simple/kernels/norm.py')).toBe(false);
  });

  it('starts every Python and TOML file with the header naming the model file and the IR hash', () => {
    const model = seedModel();
    for (const [path, text] of renderPackage(model).files) {
      if (path.endsWith('.json')) continue;
      const [l1, l2] = text.split('\n');
      expect(l1, path).toBe(`# generated from examples/mamba2-simple.ts by @mamba2/codegen ${GENERATOR_VERSION} -- do not edit`);
      expect(l2, path).toBe(`# ir-hash: ${model.hash}`);
    }
  });

  it('writes LF line ends, no trailing spaces and one final newline', () => {
    for (const [path, text] of renderPackage(seedModel()).files) {
      expect(text.includes('\r'), path).toBe(false);
      expect(/[ \t]+$/m.test(text), path).toBe(false);
      expect(text.endsWith('\n') && !text.endsWith('\n\n'), path).toBe(true);
    }
  });

  it('records every file sha256, the IR hash and the params in manifest.json', () => {
    const model = seedModel();
    const files = renderPackage(model).files;
    const manifest = JSON.parse(files.get('manifest.json')!);
    expect(manifest).toMatchObject({ name: 'mamba2_simple', className: 'Mamba2Simple', irHash: model.hash, source: 'examples/mamba2-simple.ts' });
    expect(manifest.params).toEqual(model.graph.params);
    for (const f of manifest.files as { path: string; sha256: string }[]) {
      expect(createHash('sha256').update(files.get(f.path)!).digest('hex'), f.path).toBe(f.sha256);
    }
  });

  it('stores the graph in ir.json with sorted keys', () => {
    const ir = renderPackage(seedModel()).files.get('mamba2_simple/ir.json')!;
    expect(JSON.parse(ir)).toEqual(JSON.parse(JSON.stringify(seedModel().graph)));
    expect(Object.keys(JSON.parse(ir))).toEqual(['className', 'config', 'kind', 'name', 'nodes', 'output', 'params']);
  });

  it('removes stale files on regeneration', async () => {
    const out = tmp();
    const { dir } = await generatePackage(seedModel(), { outDir: out });
    writeFileSync(join(dir, 'mamba2_simple/kernels/old.py'), '# stale\n');
    await generatePackage(seedModel({ tail: 'gate' }), { outDir: out });
    expect(existsSync(join(dir, 'mamba2_simple/kernels/old.py'))).toBe(false);
    expect(existsSync(join(dir, 'mamba2_simple/kernels/norm.py'))).toBe(false);
  });

  it('refuses to write into a folder that is not a generated package', async () => {
    const out = tmp();
    mkdirSync(join(out, 'mamba2_simple'));
    writeFileSync(join(out, 'mamba2_simple/notes.txt'), 'mine\n');
    await expect(generatePackage(seedModel(), { outDir: out })).rejects.toThrow(PackageDirError);
  });

  it('reports changed, missing and stale files in check mode and nothing after a fresh generate', async () => {
    const out = tmp();
    expect(checkPackage(seedModel(), { outDir: out }).differing.length).toBeGreaterThan(0);
    const { dir } = await generatePackage(seedModel(), { outDir: out });
    expect(checkPackage(seedModel(), { outDir: out }).differing).toEqual([]);
    writeFileSync(join(dir, 'mamba2_simple/module.py'), '# edited\n');
    writeFileSync(join(dir, 'mamba2_simple/extra.py'), '# extra\n');
    expect(checkPackage(seedModel(), { outDir: out }).differing).toEqual([
      { path: 'mamba2_simple/extra.py', why: 'stale' },
      { path: 'mamba2_simple/module.py', why: 'changed' },
    ]);
  });

  it('matches the golden module.py and _config.py of the seed (refresh: pnpm exec vitest run -u)', async () => {
    const files = renderPackage(seedModel()).files;
    await expect(files.get('mamba2_simple/module.py')).toMatchFileSnapshot('./__snapshots__/mamba2_simple/module.py');
    await expect(files.get('mamba2_simple/_config.py')).toMatchFileSnapshot('./__snapshots__/mamba2_simple/_config.py');
  });
});
