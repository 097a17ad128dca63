export * from './nodes.ts';
export { canonicalJson, hashGraph } from './hash.ts';
