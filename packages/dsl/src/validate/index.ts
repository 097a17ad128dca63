export * from './errors.ts';
export { validateGraph, validateLaunch, validateModel } from './validate.ts';
export { checkGraph, checkLaunch } from './rules.ts';
export * from './python-names.ts';
