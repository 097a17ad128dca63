export { graph, GraphBuilder } from './builder.ts';
export type {
  BuildOptions,
  CausalConv1dOptions,
  DSkipOptions,
  DtTransformOptions,
  GateOptions,
  LinearOptions,
  OutputOptions,
  RMSNormOptions,
  SplitOptions,
  SsdScanOptions,
} from './builder.ts';
export { nameFromFile, pascalCase } from './defaults.ts';
