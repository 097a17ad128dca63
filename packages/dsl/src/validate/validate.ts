import type { LaunchOptions } from '../ir/launch.ts';
import type { Graph, SourceMap } from '../ir/nodes.ts';
import { GRAPH_LOC_KEY, type ModelDef } from '../model.ts';
import type { DslError } from './errors.ts';
import { checkGraph, checkLaunch } from './rules.ts';

/** All rule violations of a graph, each located at its node's (or the model's) call site. */
export function validateGraph(graph: Graph, sourceMap: SourceMap): DslError[] {
  return checkGraph(graph).map((e) => e.locate(sourceMap[e.nodeId ?? GRAPH_LOC_KEY] ?? sourceMap[GRAPH_LOC_KEY] ?? null));
}

/** All rule violations of launch options for `graph`, located at the model's call site. */
export function validateLaunch(launch: LaunchOptions, graph: Graph, sourceMap: SourceMap): DslError[] {
  return checkLaunch(launch, graph).map((e) => e.locate(sourceMap[GRAPH_LOC_KEY] ?? null));
}

/** Throws the first rule violation (one line, with file:line and the fix). */
export function validateModel(model: ModelDef): void {
  const [first] = [...validateGraph(model.graph, model.sourceMap), ...validateLaunch(model.launch, model.graph, model.sourceMap)];
  if (first) throw first;
}
