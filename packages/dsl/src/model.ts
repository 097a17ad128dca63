import type { Graph, SourceMap } from './ir/nodes.ts';

/** Values `pnpm gen` may override on the command line (`--chunk-size 128 --headdim 32`). */
export interface ModelOverrides {
  readonly chunkSize?: number;
  readonly headdim?: number;
}

/**
 * What a model file exports: the graph, where each node came from, and a way
 * to rebuild it with command-line overrides. `graph` and `sourceMap` are
 * frozen; `rebuild` returns a new ModelDef.
 */
export interface ModelDef {
  readonly kind: 'ModelDef';
  /** 'mamba2' for the shorthand, 'builder' for graphs built node by node. */
  readonly origin: 'mamba2' | 'builder';
  readonly graph: Graph;
  readonly sourceMap: SourceMap;
  rebuild(overrides: ModelOverrides): ModelDef;
}

/** SourceMap key for the model as a whole (graph-level settings: name, codegen params). */
export const GRAPH_LOC_KEY = '$graph';

export function isModelDef(value: unknown): value is ModelDef {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Partial<ModelDef>;
  return v.kind === 'ModelDef' && typeof v.rebuild === 'function' && (v.graph as Graph | undefined)?.kind === 'Graph';
}

export function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}
