/** @mamba2/dsl: write a Mamba-2 block in TypeScript, get a validated IR graph. */
export * from './ir/index.ts';
export * from './builder/index.ts';
export { mamba2, mamba2Layer, MAMBA2_DEFAULTS } from './mamba2.ts';
export type { Mamba2Options, Mamba2Config, Mamba2LayerOptions } from './mamba2.ts';
export { visionMamba2, VISION_DEFAULTS } from './vision.ts';
export type { VisionMamba2Options } from './vision.ts';
export { isModelDef, GRAPH_LOC_KEY } from './model.ts';
export type { ModelDef, ModelOverrides } from './model.ts';
export * from './validate/index.ts';
export { captureCallSite, repoRelative, REPO_ROOT } from './location.ts';
