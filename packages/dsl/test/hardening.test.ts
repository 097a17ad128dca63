import { describe, expect, it } from 'vitest';
import { checkPackageName } from '../../codegen/src/lower/names.ts';
import { loadModels } from '../src/frontend/index.ts';
import { graph, isDslError, mamba2, packageNameProblem, type DslError, type Mamba2Options } from '../src/index.ts';

/** The DslError `f` throws (fails the test when it throws nothing or something else). */
function dslError(f: () => unknown): DslError {
  try {
    f();
  } catch (e) {
    if (isDslError(e)) return e;
    throw e;
  }
  throw new Error('no error');
}

async function loadError(file: string): Promise<DslError> {
  try {
    await loadModels([file]);
  } catch (e) {
    if (isDslError(e)) return e;
    throw e;
  }
  throw new Error(`${file} loaded without an error`);
}

const FLOAT_OPTIONS: [string, (v: number) => Partial<Mamba2Options>][] = [
  ['dtMin', (v) => ({ dtMin: v })],
  ['dtMax', (v) => ({ dtMax: v })],
  ['dtInitFloor', (v) => ({ dtInitFloor: v })],
  ['normEps', (v) => ({ normEps: v })],
  ['aInitRange[0]', (v) => ({ aInitRange: [v, 16] })],
  ['aInitRange[1]', (v) => ({ aInitRange: [1, v] })],
  ['dtLimit[0]', (v) => ({ dtLimit: [v, 1] })],
  ['convInit', (v) => ({ convInit: v })],
];

describe('float options', () => {
  for (const [option, make] of FLOAT_OPTIONS) {
    for (const v of [Number.NaN, Infinity, -Infinity]) {
      // dtLimit's upper bound may be Infinity (no clamp); every other float must be finite.
      it(`rejects ${option} ${v} by a rule that names the option and the fix`, () => {
        const e = dslError(() => mamba2({ dModel: 256, ...make(v) }));
        expect(e.message).toContain(option);
        expect(e.message).toContain(String(v));
        expect(e.message).not.toMatch(/canonicalJson|JSON form/);
        expect(e.fix).toMatch(/^Use /);
      });
    }
  }

  it('rejects both dtMin and dtMax Infinity (they satisfy dtMin <= dtMax) as not finite', () => {
    const e = dslError(() => mamba2({ dModel: 256, dtMin: Infinity, dtMax: Infinity }));
    expect(e.rule).toBe('finite-number');
    expect(e.what).toBe('dtMin Infinity is not a finite number');
  });

  it('still accepts dtLimit [0, Infinity], the no-clamp default', () => {
    expect(mamba2({ dModel: 256, dtLimit: [0, Infinity] }).graph.config['dtLimit']).toEqual([0, null]);
  });

  it('rejects an Infinity eps in a graph built node by node, naming the node', () => {
    const e = dslError(() =>
      graph()
        .input({ features: 64 })
        .rmsNorm({ id: 'n', z: null, param: 'norm', groupSize: 64, eps: Infinity })
        .output()
        .build({ name: 'g' }),
    );
    expect(e.rule).toBe('finite-number');
    expect(e.what).toMatch(/^n\.eps Infinity is not a finite number/);
  });

  it('points a non-finite option at its own line in the model file', async () => {
    const e = await loadError('packages/dsl/test/fixtures/invalid/norm-eps-infinity.ts');
    expect(e.message).toMatch(/^normEps Infinity is not a finite number \(packages\/dsl\/test\/fixtures\/invalid\/norm-eps-infinity\.ts:5\)/);
  });
});

describe('option keys', () => {
  it('rejects an unknown key passed through a variable, at its line, suggesting the real one', async () => {
    const e = await loadError('packages/dsl/test/fixtures/invalid/unknown-option-variable.ts');
    expect(e.rule).toBe('option-known');
    expect(e.message).toMatch(/^mamba2\(\) has no option dstate \(packages\/dsl\/test\/fixtures\/invalid\/unknown-option-variable\.ts:6\)\. Did you mean dState\?/);
  });

  it('rejects an unknown codegen key passed through a variable', () => {
    const cg = { scanWarp: 8 } as unknown as Mamba2Options['codegen'];
    const e = dslError(() => mamba2({ dModel: 256, codegen: cg }));
    expect(e.what).toBe('mamba2() has no option codegen.scanWarp');
    expect(e.fix).toMatch(/^Did you mean codegen\.scanWarps\?/);
  });

  it('accepts every key of the defaults', () => {
    expect(() => mamba2({ dModel: 256, dState: 64, normEps: 1e-6, codegen: { scanWarps: 8 } })).not.toThrow();
  });
});

describe('package names', () => {
  for (const [name, why] of [
    ['torch', /module the package depends on/],
    ['numpy', /module the package depends on/],
    ['triton', /module the package depends on/],
    ['json', /standard-library module/],
    ['typing', /standard-library module/],
    ['math', /standard-library module/],
  ] as const) {
    it(`refuses the package name '${name}', which shadows an importable module, and suggests one that does not`, () => {
      const e = dslError(() => mamba2({ dModel: 256, name }));
      expect(e.rule).toBe('package-name');
      expect(e.what).toMatch(why);
      const suggested = /Use name '([a-z0-9_]+)'/.exec(e.fix)?.[1];
      expect(suggested).toBeDefined();
      expect(packageNameProblem(suggested!)).toBe(null);
      expect(() => mamba2({ dModel: 256, name: suggested! })).not.toThrow();
    });
  }

  it('agrees with codegen on every name: one accepts exactly what the other accepts', () => {
    const names = ['mamba2_simple', '_private', 'torch', 'json', 'class', 'match', '_', 'Mamba', 'mamba-2', '2fast', 'a', 'os', 'pip', 'ok_name9'];
    for (const name of names) {
      let dslOk = true;
      try {
        mamba2({ dModel: 256, name });
      } catch {
        dslOk = false;
      }
      let codegenOk = true;
      try {
        checkPackageName(name);
      } catch {
        codegenOk = false;
      }
      expect(codegenOk, name).toBe(dslOk);
    }
  });
});

describe('model files', () => {
  it('says in one line that a model file does not exist, with the fix', async () => {
    const e = await loadError('examples/no-such-model.ts');
    expect(e.rule).toBe('model-file-exists');
    expect(e.message.split('\n')).toHaveLength(1);
    expect(e.message).toMatch(/^model file examples\/no-such-model\.ts does not exist .*Check the path/);
  });
});

describe('overrides from elsewhere than the gen flags', () => {
  it('names the sweep grid, not a --headdim flag the user never gave, when a grid headdim breaks a rule', async () => {
    const src = { headdim: 'headdim 8 of the sweep grid' };
    const e = await loadModels(['examples/mamba2-simple.ts'], { overrides: { headdim: 8 }, overrideSource: src }).then(
      () => null,
      (x: unknown) => x as DslError,
    );
    expect(e?.message).toMatch(/^headdim 8 is outside 16\.\.256 .*\(from headdim 8 of the sweep grid\) \(examples\/mamba2-simple\.ts:\d+\)/);
    expect(e?.message).not.toContain('--headdim');
  });

  it('names the sweep grid when a graph built node by node cannot take a headdim override', async () => {
    const e = await loadModels(['examples/mamba2-builder-gate.ts'], {
      overrides: { headdim: 32 },
      overrideSource: { headdim: 'headdim 32 of the sweep grid' },
    }).then(() => null, (x: unknown) => x as DslError);
    expect(e?.rule).toBe('override-supported');
    expect(e?.message).toContain('headdim 32 of the sweep grid');
    expect(e?.message).not.toContain('--headdim');
  });

  it('still names the gen flag when no other source is given', async () => {
    const e = await loadModels(['examples/mamba2-simple.ts'], { overrides: { headdim: 8 } }).then(() => null, (x: unknown) => x as DslError);
    expect(e?.message).toContain('(from --headdim 8)');
  });
});
