export * from './nodes.ts';
export * from './launch.ts';
export { canonicalJson, hashGraph } from './hash.ts';
