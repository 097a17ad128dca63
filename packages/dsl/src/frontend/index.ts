export { loadModels } from './load.ts';
export type { LoadedModel, LoadOptions } from './load.ts';
export { refineLoc } from './locate.ts';
