import { describe, expect, it } from 'vitest';
import { loadModels } from '../src/frontend/index.ts';
import { isDslError, type DslError } from '../src/index.ts';

const FIXTURES = 'packages/dsl/test/fixtures/invalid';

/** Loads one fixture and returns the DslError it must fail with. */
async function failure(fixture: string): Promise<DslError> {
  try {
    await loadModels([`${FIXTURES}/${fixture}`]);
  } catch (e) {
    if (isDslError(e)) return e;
    throw e;
  }
  throw new Error(`${fixture} loaded without an error`);
}

interface Case {
  readonly sentence: string;
  readonly fixture: string;
  readonly error: string;
  readonly rule: string;
  readonly line: number;
  /** The values as the message states them. */
  readonly what: RegExp;
  /** The fix as the message states it. */
  readonly fix: RegExp;
}

const CASES: readonly Case[] = [
  {
    sentence: 'rejects headdim that does not divide d_inner, at the headdim line, naming the fix',
    fixture: 'headdim-48.ts', error: 'HeaddimDividesError', rule: 'headdim-divides-d-inner', line: 6,
    what: /^headdim 48 does not divide d_inner 512/, fix: /Use headdim 64 or 32, or change expand\.$/,
  },
  {
    sentence: 'rejects nheads that ngroups does not divide, at the ngroups line',
    fixture: 'ngroups-3.ts', error: 'HeadsPerGroupError', rule: 'nheads-multiple-of-ngroups', line: 7,
    what: /^nheads 8 is not a multiple of ngroups 3/, fix: /Use ngroups 1, 2, 4 or 8/,
  },
  {
    sentence: 'rejects a chunkSize that is not a power of two, suggesting the neighbours',
    fixture: 'chunk-size-100.ts', error: 'ChunkSizeError', rule: 'chunk-size-power-of-two-16-256', line: 6,
    what: /^chunkSize 100 is not a power of two in 16\.\.256/, fix: /Use chunkSize 64 or 128/,
  },
  {
    sentence: 'rejects headdim below 16 because tl.dot needs 16-wide tiles',
    fixture: 'headdim-8.ts', error: 'HeaddimRangeError', rule: 'headdim-16-256', line: 7,
    what: /^headdim 8 is outside 16\.\.256 \(tl\.dot/, fix: /Use headdim 16 or 32, which divide d_inner 256/,
  },
  {
    sentence: 'rejects a dState that is not a multiple of 8, on the line of a one-line call',
    fixture: 'd-state-20.ts', error: 'DStateError', rule: 'd-state-16-256-multiple-of-8', line: 5,
    what: /^dState 20 is not a multiple of 8 in 16\.\.256/, fix: /Use dState 24/,
  },
  {
    sentence: 'rejects a conv width above 8',
    fixture: 'd-conv-9.ts', error: 'ConvWidthError', rule: 'conv-width-2-8', line: 7,
    what: /^conv width 9 is outside 2\.\.8/, fix: /dConv 8/,
  },
  {
    sentence: 'rejects dtMin above dtMax, suggesting the swap',
    fixture: 'dt-min-above-max.ts', error: 'DtRangeError', rule: 'dt-min-positive-and-at-most-dt-max', line: 7,
    what: /^dtMin 0\.5 and dtMax 0\.1 do not satisfy 0 < dtMin <= dtMax/, fix: /Swap them \(dtMin 0\.1, dtMax 0\.5\)/,
  },
  {
    sentence: 'rejects a reversed dtLimit',
    fixture: 'dt-limit-reversed.ts', error: 'DtLimitError', rule: 'dt-limit-ordered', line: 6,
    what: /^dtLimit \[0\.2, 0\.1\] is not 0 <= lo < hi/, fix: /Use dtLimit \[0, Infinity\]/,
  },
  {
    sentence: 'rejects an aInitRange starting at zero',
    fixture: 'a-init-range-zero.ts', error: 'AInitRangeError', rule: 'a-init-range-positive-ordered', line: 6,
    what: /^aInitRange \[0, 16\] is not 0 < lo <= hi/, fix: /Use aInitRange \[1, 16\]/,
  },
  {
    sentence: 'rejects a dtInitFloor of zero',
    fixture: 'dt-init-floor-zero.ts', error: 'DtInitFloorError', rule: 'dt-init-floor-positive', line: 6,
    what: /^dtInitFloor 0 is not positive/, fix: /Use dtInitFloor 1e-4/,
  },
  {
    sentence: 'rejects a normGroupSize that does not divide d_inner',
    fixture: 'norm-group-size-100.ts', error: 'NormGroupSizeError', rule: 'norm-group-size-divides', line: 6,
    what: /^normGroupSize 100 does not divide the norm's 512 features/, fix: /Use normGroupSize 128 or 64, or leave it null/,
  },
  {
    sentence: 'rejects a codegen blockP that is not a power of two, at the nested blockP line',
    fixture: 'block-p-24.ts', error: 'BlockPError', rule: 'block-p', line: 8,
    what: /^codegen blockP 24 is not 0 \(auto\) or a power of two in 16\.\.64/, fix: /Use blockP 0, 16, 32 or 64\.$/,
  },
  {
    sentence: 'rejects scanWarps 3',
    fixture: 'scan-warps-3.ts', error: 'WarpsError', rule: 'warps-1-2-4-8', line: 6,
    what: /^codegen scanWarps 3 is not 1, 2, 4 or 8/, fix: /Use scanWarps 4/,
  },
  {
    sentence: 'rejects a package name that is a Python keyword',
    fixture: 'name-keyword.ts', error: 'PackageNameError', rule: 'package-name', line: 6,
    what: /^package name 'lambda' is a Python keyword/, fix: /Use name 'lambda_block'/,
  },
  {
    sentence: 'rejects a className that starts with a digit',
    fixture: 'class-name-digit.ts', error: 'ClassNameError', rule: 'class-name', line: 6,
    what: /^className '2Fast' is not a Python identifier/, fix: /e\.g\. "Mamba2Simple"/,
  },
  {
    sentence: 'rejects normBeforeGate without a gate as contradictory',
    fixture: 'nogate-norm-before-gate.ts', error: 'GateNormContradictionError', rule: 'no-gate-without-z', line: 7,
    what: /^gate false with normBeforeGate true/, fix: /Drop normBeforeGate, or set gate: true\.$/,
  },
  {
    sentence: "rejects a builder linear whose inFeatures does not match its input, at the linear's inFeatures",
    fixture: 'builder-linear-in-features.ts', error: 'LinearInFeaturesError', rule: 'linear-in-features', line: 6,
    what: /^linear 'in_proj' has inFeatures 256 but its input 'u' has 128 features/, fix: /Use inFeatures 128/,
  },
  {
    sentence: 'rejects builder split sizes that do not add up, at the split call',
    fixture: 'builder-split-sum.ts', error: 'SplitSizesError', rule: 'split-sizes-sum', line: 7,
    what: /sum to 556, but 'in_proj' has 600 features/, fix: /Make the part sizes add up to 600\.$/,
  },
  {
    sentence: "rejects a builder scan's headdim below 16 at the headdim line inside the ssdScan call",
    fixture: 'builder-scan-headdim.ts', error: 'HeaddimRangeError', rule: 'headdim-16-256', line: 11,
    what: /^headdim 8 is outside 16\.\.256/, fix: /Use headdim 16 or 32/,
  },
  {
    sentence: 'rejects a file that exports no model, naming the file and the fix',
    fixture: 'no-model.ts', error: 'NoModelExportError', rule: 'file-exports-model', line: 1,
    what: /no-model\.ts exports dModel but no model/, fix: /Add `export default mamba2\(\{ dModel: 256 \}\)`/,
  },
  {
    sentence: 'follows an options const to the headdim line inside it',
    fixture: 'options-variable.ts', error: 'HeaddimDividesError', rule: 'headdim-divides-d-inner', line: 6,
    what: /^headdim 48 does not divide d_inner 512/, fix: /or change expand\.$/,
  },
  {
    sentence: 'wraps a plain error thrown by a model file, at the throwing line',
    fixture: 'throws.ts', error: 'ModelImportError', rule: 'model-file-runs', line: 5,
    what: /throws\.ts threw while loading: dModel did not parse/, fix: /Run `pnpm exec tsx packages\/dsl\/test\/fixtures\/invalid\/throws\.ts`/,
  },
];

describe('validation through loadModels', () => {
  for (const c of CASES) {
    it(c.sentence, async () => {
      const e = await failure(c.fixture);
      expect(e.name).toBe(c.error);
      expect(e.rule).toBe(c.rule);
      expect(e.loc).toMatchObject({ file: `${FIXTURES}/${c.fixture}`, line: c.line });
      expect(e.message).not.toContain('\n');
      expect(e.message).toMatch(c.what);
      expect(e.message).toContain(` (${FIXTURES}/${c.fixture}:${c.line}). `);
      expect(e.message).toMatch(c.fix);
    });
  }

  it('carries the offending value on the error', async () => {
    expect((await failure('headdim-48.ts')).value).toBe(48);
  });
});
