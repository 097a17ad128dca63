import type { LaunchOptions } from './ir/launch.ts';
import type { Graph, SourceMap } from './ir/nodes.ts';

/** Model values `pnpm gen` may override on the command line (`--headdim 32`). Launch flags do not rebuild. */
export interface ModelOverrides {
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
  /** Launch settings the model file asks for (`codegen: {...}`, `chunkSize`): not part of the graph or its hash. */
  readonly launch: LaunchOptions;
  rebuild(overrides: ModelOverrides): ModelDef;
}

/** SourceMap key for the model as a whole (graph-level settings: name, launch options). */
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
