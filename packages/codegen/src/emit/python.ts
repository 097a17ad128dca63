/**
 * Python source literals, decided in TS so templates only insert strings.
 */

/**
 * An int-or-float argument as the seed writes it: 16 -> "16", 0.001 -> "0.001".
 * JS's shortest round-trip form is a valid Python literal for every finite
 * number ("1e+21", "5e-324", "-1.5"); NaN has none and is refused (the DSL's
 * finite-number rule stops it before codegen).
 */
export function pyNum(n: number | null): string {
  if (n === null || n === Infinity) return 'float("inf")';
  if (n === -Infinity) return 'float("-inf")';
  if (!Number.isFinite(n)) throw new Error(`cannot write ${n} as a Python number`);
  return String(n);
}

/**
 * A float argument: 0 -> "0.0", 1e-5 -> "0.00001", 1e21 -> "1e+21" (an
 * exponent already makes a Python float; "1e+21.0" would be a syntax error).
 */
export function pyFloat(n: number | null): string {
  const s = pyNum(n);
  return n !== null && Number.isFinite(n) && Number.isInteger(n) && !/[e.]/.test(s) ? `${s}.0` : s;
}

export function pyBool(b: boolean): string {
  return b ? 'True' : 'False';
}

export function pyStr(s: string): string {
  return JSON.stringify(s);
}

export function pyTuple(items: readonly string[]): string {
  return items.length === 1 ? `(${items[0]},)` : `(${items.join(', ')})`;
}

/** JSON value -> Python literal (dicts with sorted keys, for determinism). */
export function pyLiteral(v: unknown): string {
  if (v === null || v === undefined) return 'None';
  if (typeof v === 'boolean') return pyBool(v);
  if (typeof v === 'number') return pyNum(v);
  if (typeof v === 'string') return pyStr(v);
  if (Array.isArray(v)) return `[${v.map(pyLiteral).join(', ')}]`;
  if (typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o).sort().map((k) => `${pyStr(k)}: ${pyLiteral(o[k])}`).join(', ')}}`;
  }
  throw new Error(`cannot write ${typeof v} as a Python literal`);
}

/** The type hint of each constructor argument of the generated module (the seed's types). */
const INIT_HINTS: Readonly<Record<string, string>> = {
  d_model: 'int',
  d_state: 'int',
  d_conv: 'int',
  conv_init: 'Optional[float]',
  expand: 'float',
  headdim: 'int',
  ngroups: 'int',
  A_init_range: 'Tuple[float, float]',
  dt_min: 'float',
  dt_max: 'float',
  dt_init_floor: 'float',
  dt_limit: 'Tuple[float, float]',
  learnable_init_states: 'bool',
  activation: 'str',
  bias: 'bool',
  conv_bias: 'bool',
  chunk_size: 'int',
  use_mem_eff_path: 'bool',
  layer_idx: 'Optional[int]',
  device: 'Optional[Union[torch.device, str]]',
  dtype: 'Optional[torch.dtype]',
};

/** A signature entry with its hint (null when the argument has none). */
export function withInitHint<P extends { readonly name: string }>(p: P): P & { readonly hint: string | null } {
  return { ...p, hint: INIT_HINTS[p.name] ?? null };
}
