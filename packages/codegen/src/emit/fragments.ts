/**
 * The model's fragments: the small @triton.jit functions of <pkg>/_fragments.py
 * that the library's kernel skeletons call (see
 * packages/kernels/python/mamba2_kernels/fragments.py for the interface).
 * Every decision is made here from the KernelPlan: which steps of the dt
 * chain the model has, what its scan epilogue does, which conv activation it
 * uses, and which call flags each fragment serves. The template
 * (_fragments.py.hbs) only inserts the lines.
 */
import type { KernelPlan, ScanPlan } from '../lower/plan.ts';

/** What the fragments are decided from: a sequence plan, or a vision plan's per-order scan. */
export interface FragmentSource {
  readonly name: string;
  readonly dt: KernelPlan['dt'];
  readonly norm: KernelPlan['norm'];
  readonly scan: Pick<ScanPlan, 'd' | 'gateZ'>;
  readonly conv: { readonly activation: 'silu' | 'identity' };
}
import { baseContext, type BaseContext, type FileMeta } from './context.ts';
import { pyBool, pyStr } from './python.ts';

/** One @triton.jit function: its docstring and body lines (4-space indented in the template). */
export interface JitFragment {
  readonly doc: string;
  readonly body: readonly string[];
  /** Python dict literal of the constexpr flags it was built for (the calls it serves). */
  readonly serves: string;
}

export interface FragmentsContext extends BaseContext {
  readonly dtChain: JitFragment;
  readonly scanEpilogue: JitFragment;
  readonly convActivation: JitFragment & { readonly name: string; readonly nameLiteral: string };
}

/** Python dict literal, keys in the given order. */
function pyFlags(flags: readonly (readonly [string, boolean])[]): string {
  return `{${flags.map(([k, v]) => `${pyStr(k)}: ${pyBool(v)}`).join(', ')}}`;
}

/** dt chain: raw dt -> dt, the steps the model's dt prologue has, in its order. */
export function dtChainFragment(plan: FragmentSource): JitFragment {
  const { dt } = plan;
  const steps: string[] = [];
  const body: string[] = [];
  if (dt.bias) {
    steps.push('+ dt_bias');
    body.push('v = v + bias');
  }
  if (dt.softplus) {
    steps.push('softplus');
    body.push('v = softplus_f32(v)');
  }
  // the clamp bounds are runtime arguments (the module passes self.dt_limit)
  steps.push('clamp to dt_limit');
  body.push('v = clamp(v, lo, hi)');
  body.push('return v');
  return {
    doc: `dt of ${plan.name}: raw dt ${steps.join(', ')}.`,
    body,
    serves: pyFlags([
      ['HAS_DT_BIAS', dt.bias],
      ['DT_SOFTPLUS', dt.softplus],
    ]),
  };
}

/** Scan epilogue: what follows the scan inside its kernel (D skip, z gate). */
export function scanEpilogueFragment(plan: FragmentSource): JitFragment {
  const { scan } = plan;
  const parts: string[] = [];
  const body: string[] = [];
  if (scan.d !== null) {
    parts.push(scan.d.perChannel ? 'D skip per channel' : 'D skip per head');
    body.push('y += x.to(tl.float32) * D');
  }
  if (scan.gateZ) {
    parts.push('z gate (silu)');
    body.push('y = y * z * tl.sigmoid(z)');
  }
  body.push('return y');
  return {
    doc: `scan epilogue of ${plan.name}: ${parts.length === 0 ? 'none (y as is)' : parts.join(', then ')}${
      plan.norm === null ? '' : '; the norm runs after the scan (kernels/norm.py)'
    }.`,
    body,
    serves: pyFlags([
      ['HAS_D', scan.d !== null],
      ['HAS_Z', scan.gateZ],
    ]),
  };
}

/** Conv activation, applied to the conv output in fp32. */
export function convActivationFragment(
  plan: FragmentSource,
): JitFragment & { readonly name: string; readonly nameLiteral: string } {
  const act = plan.conv.activation;
  const body = act === 'silu' ? ['return v * tl.sigmoid(v)'] : ['return v'];
  return { name: act, nameLiteral: pyStr(act), doc: `conv activation of ${plan.name}: ${act}.`, body, serves: 'None' };
}

export function fragmentsContext(plan: KernelPlan, meta: FileMeta): FragmentsContext {
  return {
    ...baseContext(plan, meta),
    dtChain: dtChainFragment(plan),
    scanEpilogue: scanEpilogueFragment(plan),
    convActivation: convActivationFragment(plan),
  };
}
