import { classNameProblem, PY_IDENTIFIER, PYTHON_KEYWORDS, packageNameProblem, suggestPackageName } from '@mamba2/dsl';
import { InvalidPythonNameError } from './errors.ts';

// The identifier rules live in @mamba2/dsl (validate/python-names.ts), so a
// name the DSL accepts is never refused here, nor the other way round.

/** Attributes the generated module defines itself; a parameter prefix may not shadow them. */
const RESERVED_ATTRS = new Set([
  'A_log', 'D', 'dt_bias', 'init_states', 'forward', 'training', 'd_model', 'd_inner', 'nheads',
  'headdim', 'd_state', 'ngroups', 'd_conv', 'chunk_size', 'dt_limit', 'activation', 'layer_idx',
  'use_mem_eff_path', 'expand', 'conv_dim',
]);

/** Graph.name: the Python package name. */
export function checkPackageName(name: string): string {
  const problem = packageNameProblem(name);
  if (problem !== null) {
    throw new InvalidPythonNameError(`model name "${name}" is ${problem}. Use e.g. "${suggestPackageName(name)}".`);
  }
  return name;
}

/** Graph.className: the nn.Module class name. */
export function checkClassName(name: string): string {
  const problem = classNameProblem(name);
  if (problem !== null) {
    throw new InvalidPythonNameError(`class name "${name}" is ${problem}. Use e.g. "Mamba2Tiny".`);
  }
  return name;
}

/** A parameter prefix becomes a module attribute (`self.in_proj`). */
export function checkParamName(name: string, nodeId: string): string {
  if (!PY_IDENTIFIER.test(name) || PYTHON_KEYWORDS.has(name) || RESERVED_ATTRS.has(name)) {
    throw new InvalidPythonNameError(
      `parameter prefix "${name}" of node "${nodeId}" cannot be a module attribute ` +
        `(it must be a Python identifier and not one of ${[...RESERVED_ATTRS].sort().join(', ')}). ` +
        `Use e.g. "in_proj".`,
    );
  }
  return name;
}
