import { InvalidPythonNameError } from './errors.ts';

const PY_KEYWORDS = new Set([
  'False', 'None', 'True', 'and', 'as', 'assert', 'async', 'await', 'break', 'class', 'continue',
  'def', 'del', 'elif', 'else', 'except', 'finally', 'for', 'from', 'global', 'if', 'import', 'in',
  'is', 'lambda', 'nonlocal', 'not', 'or', 'pass', 'raise', 'return', 'try', 'while', 'with', 'yield',
]);

/** Attributes the generated module defines itself; a parameter prefix may not shadow them. */
const RESERVED_ATTRS = new Set([
  'A_log', 'D', 'dt_bias', 'init_states', 'forward', 'training', 'd_model', 'd_inner', 'nheads',
  'headdim', 'd_state', 'ngroups', 'd_conv', 'chunk_size', 'dt_limit', 'activation', 'layer_idx',
  'use_mem_eff_path', 'expand', 'conv_dim',
]);

/** Graph.name: the Python package name. */
export function checkPackageName(name: string): string {
  if (!/^[a-z][a-z0-9_]*$/.test(name) || PY_KEYWORDS.has(name)) {
    throw new InvalidPythonNameError(
      `model name "${name}" is not a lower snake_case Python identifier. Use e.g. "mamba2_tiny".`,
    );
  }
  return name;
}

/** Graph.className: the nn.Module class name. */
export function checkClassName(name: string): string {
  if (!/^[A-Z][A-Za-z0-9_]*$/.test(name) || PY_KEYWORDS.has(name)) {
    throw new InvalidPythonNameError(
      `class name "${name}" is not a CapWords Python identifier. Use e.g. "Mamba2Tiny".`,
    );
  }
  return name;
}

/** A parameter prefix becomes a module attribute (`self.in_proj`). */
export function checkParamName(name: string, nodeId: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name) || PY_KEYWORDS.has(name) || RESERVED_ATTRS.has(name)) {
    throw new InvalidPythonNameError(
      `parameter prefix "${name}" of node "${nodeId}" cannot be a module attribute ` +
        `(it must be a Python identifier and not one of ${[...RESERVED_ATTRS].sort().join(', ')}). ` +
        `Use e.g. "in_proj".`,
    );
  }
  return name;
}
