import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { launchToJson, STDLIB_MODULES } from '@mamba2/dsl';
import { checkPackage, generatePackage, kernelSetSha, PackageDirError, renderPackage, GENERATOR_VERSION } from '../src/index.ts';
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
      'mamba2_simple/__init__.py', 'mamba2_simple/_config.py', 'mamba2_simple/_fragments.py', 'mamba2_simple/autograd.py', 'mamba2_simple/block.py',
      'mamba2_simple/custom_ops.py', 'mamba2_simple/fragments.py', 'mamba2_simple/functional.py',
      'mamba2_simple/inference.py', 'mamba2_simple/ir.json', 'mamba2_simple/kernels/__init__.py', 'mamba2_simple/kernels/conv.py',
      'mamba2_simple/kernels/conv_bwd.py', 'mamba2_simple/kernels/conv_varlen.py', 'mamba2_simple/kernels/dt.py', 'mamba2_simple/kernels/fastlaunch.py',
      'mamba2_simple/kernels/host.py', 'mamba2_simple/kernels/norm.py',
      'mamba2_simple/kernels/norm_bwd.py', 'mamba2_simple/kernels/smem.py', 'mamba2_simple/kernels/ssd_bwd.py',
      'mamba2_simple/kernels/ssd_bwd_T.py', 'mamba2_simple/kernels/ssd_bwd_common.py', 'mamba2_simple/kernels/ssd_bwd_v6.py', 'mamba2_simple/kernels/ssd_chunked.py',
      'mamba2_simple/kernels/ssd_common.py', 'mamba2_simple/kernels/ssd_decode.py', 'mamba2_simple/kernels/ssd_fused.py',
      'mamba2_simple/kernels/ssd_fused_dispatch.py', 'mamba2_simple/kernels/ssd_fused_one.py', 'mamba2_simple/kernels/ssd_varlen.py', 'mamba2_simple/language_model.py', 'mamba2_simple/launch.py', 'mamba2_simple/lm.py',
      'mamba2_simple/module.py', 'mamba2_simple/py.typed', 'mamba2_simple/varlen.py', 'manifest.json', 'pyproject.toml',
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

  it('records every file sha256, the IR hash and the launch config in manifest.json', () => {
    const model = seedModel();
    const files = renderPackage(model).files;
    const manifest = JSON.parse(files.get('manifest.json')!);
    expect(manifest).toMatchObject({ name: 'mamba2_simple', className: 'Mamba2Simple', irHash: model.hash, source: 'examples/mamba2-simple.ts' });
    expect(manifest.launch).toEqual(launchToJson(renderPackage(model).launch));
    expect(manifest).not.toHaveProperty('params');
    for (const f of manifest.files as { path: string; sha256: string }[]) {
      expect(createHash('sha256').update(files.get(f.path)!).digest('hex'), f.path).toBe(f.sha256);
    }
  });

  it('declares in pyproject.toml every module the package imports, bounded to the tested versions, and ships py.typed', () => {
    const files = renderPackage(seedModel()).files;
    const toml = files.get('pyproject.toml')!;
    expect(toml).toMatch(/requires-python = ">=3\.10"/);
    for (const dep of ['"torch>=2.13,<2.14"', '"triton>=3.6,<3.7"', '"numpy>=2.0,<3"']) expect(toml).toContain(dep);
    expect(toml).toMatch(/mamba2_simple = \["ir\.json", "py\.typed"\]/);
    expect(files.has('mamba2_simple/py.typed')).toBe(true);
    // Every third-party module any generated file imports is declared.
    const imported = new Set<string>();
    for (const [path, text] of files) {
      if (!path.endsWith('.py')) continue;
      for (const m of text.matchAll(/^\s*(?:import|from) ([A-Za-z_][A-Za-z0-9_]*)/gm)) imported.add(m[1]!);
    }
    // (Leading underscore: the package's own private modules, named in docstrings and examples.)
    const thirdParty = [...imported].filter((m) => !STDLIB_MODULES.has(m) && !m.startsWith('_') && m !== 'mamba2_simple');
    expect(thirdParty.sort()).toEqual(['numpy', 'torch', 'triton']);
    for (const m of thirdParty) expect(toml, m).toContain(`"${m}>=`);
  });

  it('gives the same model with other launch flags the same IR hash and ir.json, and another _config.py', () => {
    const model = seedModel();
    const a = renderPackage(model);
    const b = renderPackage(model, { launch: { blockP: 32, scanWarps: 8, chunkSize: 64 } });
    const manifest = (p: typeof a) => JSON.parse(p.files.get('manifest.json')!);
    expect(manifest(b).irHash).toBe(manifest(a).irHash);
    expect(b.files.get('mamba2_simple/ir.json')).toBe(a.files.get('mamba2_simple/ir.json'));
    expect(b.files.get('mamba2_simple/kernels/ssd_fused.py')).toBe(a.files.get('mamba2_simple/kernels/ssd_fused.py'));
    const cfg = b.files.get('mamba2_simple/_config.py')!;
    expect(cfg).not.toBe(a.files.get('mamba2_simple/_config.py'));
    expect(cfg).toMatch(/fused=FusedScan\(\n {8}block_p=32, block_q=32, num_warps=8,/);
    expect(cfg).toMatch(/chunked=ChunkedScan\(\n {8}chunk_size=64, block_p=32, num_warps=8,/);
  });

  it('records in _config.py the kernel sha of each kernel, over the copies of every file it depends on, as a sweep hashes it', () => {
    const pkg = renderPackage(seedModel());
    for (const section of ['fused', 'chunked', 'bwd', 'conv', 'norm'] as const) {
      const { kernel, kernelSha: sha } = pkg.launch[section];
      expect(sha, kernel).toBe(kernelSetSha(kernel, (f) => pkg.files.get(`mamba2_simple/${f}`) ?? null));
      expect(pkg.files.get('mamba2_simple/_config.py')).toContain(`kernel="${kernel}", kernel_sha="${sha}"`);
    }
  });

  it('stores the graph in ir.json with sorted keys', () => {
    const ir = renderPackage(seedModel()).files.get('mamba2_simple/ir.json')!;
    expect(JSON.parse(ir)).toEqual(JSON.parse(JSON.stringify(seedModel().graph)));
    expect(Object.keys(JSON.parse(ir))).toEqual(['className', 'config', 'kind', 'name', 'nodes', 'output']);
  });

  it('removes, on regeneration, the files the previous manifest listed and the new one does not', async () => {
    const out = tmp();
    const { dir } = await generatePackage(seedModel(), { outDir: out });
    expect(existsSync(join(dir, 'mamba2_simple/kernels/norm.py'))).toBe(true);
    await generatePackage(seedModel({ tail: 'gate' }), { outDir: out });
    expect(existsSync(join(dir, 'mamba2_simple/kernels/norm.py'))).toBe(false);
    expect(existsSync(join(dir, 'mamba2_simple/kernels/conv.py'))).toBe(true);
  });

  it('never deletes a file the previous manifest did not list: it refuses, naming them, and leaves every file in place', async () => {
    const out = tmp();
    const { dir } = await generatePackage(seedModel(), { outDir: out });
    const mine = ['.git/HEAD', 'tests/test_mine.py', 'NOTES.md', 'mamba2_simple/kernels/old.py'];
    for (const f of mine) {
      mkdirSync(dirname(join(dir, f)), { recursive: true });
      writeFileSync(join(dir, f), `mine: ${f}\n`);
    }
    const err = await generatePackage(seedModel({ tail: 'gate' }), { outDir: out }).then(() => null, (e: unknown) => e);
    expect(err).toBeInstanceOf(PackageDirError);
    for (const f of mine) expect((err as Error).message).toContain(f);
    expect((err as Error).message).not.toContain('module.py');
    for (const f of mine) expect(readFileSync(join(dir, f), 'utf8')).toBe(`mine: ${f}\n`);
    // Nothing of the package was touched either: the norm kernel the new graph drops is still there.
    expect(existsSync(join(dir, 'mamba2_simple/kernels/norm.py'))).toBe(true);
  });

  it('takes as its own an unlisted file that already holds exactly the bytes it writes (a rebase kept the other manifest)', async () => {
    const out = tmp();
    const { dir } = await generatePackage(seedModel({ tail: 'gate' }), { outDir: out });
    // The norm kernel is new in the next generation; a rebase brought it in with the old manifest.
    const norm = renderPackage(seedModel()).files.get('mamba2_simple/kernels/norm.py')!;
    writeFileSync(join(dir, 'mamba2_simple/kernels/norm.py'), norm);
    await generatePackage(seedModel(), { outDir: out });
    expect(readFileSync(join(dir, 'mamba2_simple/kernels/norm.py'), 'utf8')).toBe(norm);
    // The same path with other bytes is the user's: refused, and kept.
    const out2 = tmp();
    const second = await generatePackage(seedModel({ tail: 'gate' }), { outDir: out2 });
    writeFileSync(join(second.dir, 'mamba2_simple/kernels/norm.py'), `${norm}# my edit\n`);
    await expect(generatePackage(seedModel(), { outDir: out2 })).rejects.toThrow(/kernels\/norm\.py/);
    expect(readFileSync(join(second.dir, 'mamba2_simple/kernels/norm.py'), 'utf8')).toBe(`${norm}# my edit\n`);
  });

  it('refuses to write into a folder that is not a generated package', async () => {
    const out = tmp();
    mkdirSync(join(out, 'mamba2_simple'));
    writeFileSync(join(out, 'mamba2_simple/notes.txt'), 'mine\n');
    await expect(generatePackage(seedModel(), { outDir: out })).rejects.toThrow(/notes\.txt/);
    expect(readFileSync(join(out, 'mamba2_simple/notes.txt'), 'utf8')).toBe('mine\n');
  });

  it('does not take a folder for a generated package because it holds some manifest.json', async () => {
    const out = tmp();
    mkdirSync(join(out, 'mamba2_simple/src'), { recursive: true });
    writeFileSync(join(out, 'mamba2_simple/manifest.json'), '{"name": "my-web-app", "files": []}\n');
    writeFileSync(join(out, 'mamba2_simple/src/app.js'), 'mine\n');
    await expect(generatePackage(seedModel(), { outDir: out })).rejects.toThrow(/src\/app\.js/);
    expect(readFileSync(join(out, 'mamba2_simple/src/app.js'), 'utf8')).toBe('mine\n');
    expect(readFileSync(join(out, 'mamba2_simple/manifest.json'), 'utf8')).toContain('my-web-app');
  });

  it('refuses to replace a package of the same name generated from another model file, unless forced, and says so', async () => {
    const out = tmp();
    await generatePackage(seedModel(), { outDir: out });
    const other = { ...seedModel({ tail: 'gate' }), file: 'models/other.ts' };
    const err = await generatePackage(other, { outDir: out }).then(() => null, (e: unknown) => e);
    expect(err).toBeInstanceOf(PackageDirError);
    expect((err as Error).message).toMatch(/generated from examples\/mamba2-simple\.ts.*models\/other\.ts.*--force/);
    expect(JSON.parse(readFileSync(join(out, 'mamba2_simple/manifest.json'), 'utf8')).source).toBe('examples/mamba2-simple.ts');
    const forced = await generatePackage(other, { outDir: out, force: true });
    expect(forced.replaced).toBe('examples/mamba2-simple.ts');
    expect(JSON.parse(readFileSync(join(out, 'mamba2_simple/manifest.json'), 'utf8')).source).toBe('models/other.ts');
    // Regenerating from the same file again is an ordinary update: nothing to force.
    expect((await generatePackage(other, { outDir: out })).replaced).toBe(null);
  });

  it('waits for another gen holding the package lock, refuses naming its pid if it never finishes, and takes over a lock whose process is gone', async () => {
    const out = tmp();
    const lock = join(out, '.mamba2_simple.gen-lock');
    // This process is alive: its pid in the lock means "a gen is running".
    writeFileSync(lock, `${process.pid}\n`);
    await expect(generatePackage(seedModel(), { outDir: out, lockWaitMs: 0 })).rejects.toThrow(new RegExp(`pid ${process.pid}.*wait for it`));
    expect(existsSync(join(out, 'mamba2_simple'))).toBe(false);
    // Released while we wait: the second gen goes ahead.
    setTimeout(() => rmSync(lock), 300);
    await generatePackage(seedModel(), { outDir: out, lockWaitMs: 30_000 });
    expect(existsSync(join(out, 'mamba2_simple/manifest.json'))).toBe(true);
    writeFileSync(lock, '2147483646\n');
    await generatePackage(seedModel({ tail: 'gate' }), { outDir: out, lockWaitMs: 0 });
    expect(existsSync(join(out, 'mamba2_simple/kernels/norm.py'))).toBe(false);
    expect(existsSync(lock)).toBe(false);
  });

  it('lets two gens of one package run at once: both succeed and the package is whole', async () => {
    const out = tmp();
    const [a, b] = await Promise.all([generatePackage(seedModel(), { outDir: out }), generatePackage(seedModel(), { outDir: out })]);
    expect(a.dir).toBe(b.dir);
    expect(checkPackage(seedModel(), { outDir: out }).differing).toEqual([]);
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
    // kernel shas change with every kernel edit; the test above checks them
    const config = files.get('mamba2_simple/_config.py')!.replace(/kernel_sha="[0-9a-f]{64}"/g, 'kernel_sha="<sha256>"');
    await expect(config).toMatchFileSnapshot('./__snapshots__/mamba2_simple/_config.py');
  });
});
