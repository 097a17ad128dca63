import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { SweepSpec } from './define.ts';
import { expandSweep, nheadsFor, problemId, type ModelDims, type ScanShape, type SweepConfig } from './expand.ts';

/**
 * plan.json: everything `python -m mamba2_runner.sweep run` needs, with no
 * Node on the machine that runs it. Package dirs are relative to the plan file
 * so the folder bench/sweeps/<name>/ can be carried as it is.
 */
export interface SweepPlan {
  readonly version: 1;
  readonly sweep: string;
  readonly model: string;
  /** The checkout the packages were generated from (`git rev-parse HEAD`, `-dirty` with local changes); records carry it. */
  readonly commit?: string | null;
  readonly options: {
    readonly dtype: string;
    readonly with_z: boolean;
    readonly tol?: number;
    readonly check_seqlen: number;
    readonly check_heads: number;
    readonly warmup_ms: number;
    readonly rep_ms: number;
    readonly timeout_s: number;
  };
  /** key = headdim as a string. */
  readonly packages: Readonly<Record<string, { readonly dir: string; readonly headdim: number; readonly nheads: number }>>;
  /** The model's own package with its defaults, timed once per problem. */
  readonly baselines: Readonly<Record<string, { readonly package: string; readonly shape: ScanShape }>>;
  readonly configs: readonly SweepConfig[];
}

export function packageKeyDir(headdim: number): string {
  return `pkgs/hd${headdim}`;
}

/** The headdims that need a generated package: the grid's and the model's own (the baseline). */
export function planHeaddims(spec: SweepSpec, dims: ModelDims): number[] {
  return [...new Set([...spec.grid.headdim, dims.headdim])].sort((a, b) => a - b);
}

export function buildPlan(spec: SweepSpec, name: string, dims: ModelDims): SweepPlan {
  const configs = expandSweep(spec, dims);
  const packages: Record<string, { dir: string; headdim: number; nheads: number }> = {};
  for (const h of planHeaddims(spec, dims)) {
    packages[String(h)] = { dir: packageKeyDir(h), headdim: h, nheads: nheadsFor(dims, h) };
  }
  const baselines: Record<string, { package: string; shape: ScanShape }> = {};
  for (const s of spec.shapes) {
    baselines[problemId(s, dims)] = {
      package: String(dims.headdim),
      shape: {
        batch: s.batch, seqlen: s.seqlen, nheads: nheadsFor(dims, dims.headdim), headdim: dims.headdim,
        ngroups: dims.ngroups, d_state: dims.dState,
      },
    };
  }
  const o = spec.options;
  return {
    version: 1,
    sweep: name,
    model: spec.model,
    options: {
      dtype: o.dtype ?? 'bfloat16',
      with_z: o.withZ ?? false,
      ...(o.tol !== undefined ? { tol: o.tol } : {}),
      check_seqlen: o.checkSeqlen ?? 1024,
      check_heads: o.checkHeads ?? 4,
      warmup_ms: o.warmupMs ?? 25,
      rep_ms: o.repMs ?? 100,
      timeout_s: o.timeoutS ?? 120,
    },
    packages,
    baselines,
    configs,
  };
}

export function writePlan(path: string, plan: SweepPlan): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, `${JSON.stringify(plan, null, 2)}\n`);
}

export function readPlan(path: string): SweepPlan {
  const plan = JSON.parse(readFileSync(path, 'utf8')) as SweepPlan;
  if (plan.version !== 1 || !Array.isArray(plan.configs)) {
    throw new Error(`${path} is not a sweep plan (version 1). Write one with \`pnpm bench --sweep <file>\`.`);
  }
  return plan;
}
