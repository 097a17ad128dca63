export { lower, lowerPackage } from './lower/lower.ts';
export { lowerVision, isVisionGraph } from './lower/lower-vision.ts';
export { DEFAULT_CHUNK_SIZE, GENERATED_LIBRARY_FILES, KERNEL_DEPENDENCIES, LAUNCH_KERNELS, resolveLaunch } from './lower/launch.ts';
export type * from './lower/plan.ts';
export { KERNEL_NAMES, isVisionPlan } from './lower/plan.ts';
export { UnsupportedGraphError, InvalidPythonNameError } from './lower/errors.ts';
export {
  generatePackage,
  renderPackage,
  checkPackage,
  displaySourceFile,
  packageLaunch,
  PackageDirError,
  type LoadedModel,
  type RenderOptions,
  type GenerateOptions,
  type GenerateResult,
  type RenderedPackage,
  type CheckResult,
} from './generate.ts';
export * from './emit/context.ts';
export * from './emit/vision-context.ts';
export { createEnv, DEFAULT_TEMPLATES_DIR, MissingTemplateError } from './emit/env.ts';
export { canonicalJson } from './emit/canonical-json.ts';
export { combinedSha, fileShas, kernelSetSha, kernelSha, nextPow2, parseTuned, parseTunedRows, readTunedRows, tunedChoices, tunedEntries, tunedFor, TunedFileError } from './tuned.ts';
export type { SweepRow, TunedChoice, TunedEntry } from './tuned.ts';
export { GENERATOR_NAME, GENERATOR_VERSION } from './version.ts';
