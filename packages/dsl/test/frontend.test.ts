import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadModels } from '../src/frontend/index.ts';
import { hashGraph, isDslError, ModelTypeError } from '../src/index.ts';

const VALID_EXAMPLES = readdirSync('examples')
  .filter((f) => f.endsWith('.ts'))
  .sort()
  .map((f) => `examples/${f}`);

async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (e) {
    return e;
  }
  throw new Error('expected a rejection');
}

describe('loadModels', () => {
  it('finds the nine valid examples', () => {
    expect(VALID_EXAMPLES).toEqual([
      'examples/mamba2-130m.ts',
      'examples/mamba2-builder-gate.ts',
      'examples/mamba2-conv6-nogate.ts',
      'examples/mamba2-grouped.ts',
      'examples/mamba2-layer-dssm.ts',
      'examples/mamba2-simple.ts',
      'examples/mamba2-stateful.ts',
      'examples/vision-mamba2-bidirectional.ts',
      'examples/vision-mamba2.ts',
    ]);
  });

  it('loads every valid example with its export name, repo-relative file and hash', async () => {
    const models = await loadModels(VALID_EXAMPLES);
    expect(models.map((m) => [m.file, m.exportName, m.graph.name])).toEqual([
      ['examples/mamba2-130m.ts', 'default', 'mamba2_130m'],
      ['examples/mamba2-builder-gate.ts', 'default', 'mamba2_builder_gate'],
      ['examples/mamba2-conv6-nogate.ts', 'default', 'mamba2_conv6_nogate'],
      ['examples/mamba2-grouped.ts', 'default', 'mamba2_grouped'],
      ['examples/mamba2-layer-dssm.ts', 'default', 'mamba2_layer_dssm'],
      ['examples/mamba2-simple.ts', 'default', 'mamba2_simple'],
      ['examples/mamba2-stateful.ts', 'default', 'mamba2_stateful'],
      ['examples/vision-mamba2-bidirectional.ts', 'default', 'vision_mamba2_bidirectional'],
      ['examples/vision-mamba2.ts', 'default', 'vision_mamba2'],
    ]);
    for (const m of models) expect(m.hash).toBe(hashGraph(m.graph));
  });

  it('loads the seed as package mamba2_simple with class Mamba2Simple', async () => {
    const [m] = await loadModels(['examples/mamba2-simple.ts']);
    expect(m!.graph.className).toBe('Mamba2Simple');
    expect(m!.sourceMap['scan']).toEqual({ file: 'examples/mamba2-simple.ts', line: 4, column: 16 });
  });

  it('applies a --headdim override and returns the launch options beside the graph', async () => {
    const [m] = await loadModels(['examples/mamba2-grouped.ts'], { overrides: { headdim: 64 } });
    expect(m!.graph.nodes.find((n) => n.kind === 'SsdScan')).toMatchObject({ headdim: 64, nheads: 8 });
    expect(m!.launch).toEqual({ chunkSize: 128 });
  });

  it('refuses a headdim override on the builder example, naming the fix', async () => {
    const e = await rejection(loadModels(['examples/mamba2-builder-gate.ts'], { overrides: { headdim: 32 } }));
    expect(isDslError(e) && e.rule).toBe('override-supported');
    expect((e as Error).message).toMatch(/headdim override 32 cannot be applied .*examples\/mamba2-builder-gate\.ts:\d+\)\. Drop --headdim/);
  });

  it('keeps every named export that is a model', async () => {
    const models = await loadModels(['packages/dsl/test/fixtures/valid/two-models.ts']);
    expect(models.map((m) => [m.exportName, m.graph.name])).toEqual([
      ['small', 'small_block'],
      ['wide', 'wide_block'],
    ]);
  });

  it('fails on examples/invalid with the headdim line and the fix', async () => {
    const e = await rejection(loadModels(['examples/invalid/headdim-does-not-divide.ts']));
    expect((e as Error).message).toBe(
      'headdim 48 does not divide d_inner 512 (expand 2 * dModel 256) (examples/invalid/headdim-does-not-divide.ts:6). Use headdim 64 or 32, or change expand.',
    );
  });

  it('reports a TypeScript error in a model file with its file:line:column', async () => {
    const e = await rejection(loadModels(['packages/dsl/test/fixtures/invalid/type-error.ts']));
    expect(e).toBeInstanceOf(ModelTypeError);
    const t = e as ModelTypeError;
    expect(t.diagnostics).toEqual([
      {
        file: 'packages/dsl/test/fixtures/invalid/type-error.ts',
        line: 6,
        column: 3,
        code: 2322,
        message: "Type 'string' is not assignable to type 'number'",
      },
    ]);
    expect(t.message).toMatch(/^1 TypeScript error in model files: packages\/dsl\/test\/fixtures\/invalid\/type-error\.ts:6:3 TS2322/);
    expect(t.message).not.toContain('\n');
  });
});
