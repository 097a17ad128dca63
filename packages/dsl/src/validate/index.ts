export * from './errors.ts';
export { validateGraph, validateModel } from './validate.ts';
export { checkGraph } from './rules.ts';
export * from './python-names.ts';
