/**
 * lm.py: the language model around the generated layer (the model itself is
 * the library's language_model.py; the template binds the layer class).
 */
import type { KernelPlan } from '../lower/plan.ts';
import { baseContext, type BaseContext, type FileMeta } from './context.ts';
import { pyNum } from './python.ts';

export interface LmContext extends BaseContext {
  /** The shapes config.json's d_model / ssm_cfg must match, for the docstring. */
  readonly checkedArgs: string;
}

export function lmContext(plan: KernelPlan, meta: FileMeta): LmContext {
  const { dims } = plan;
  return {
    ...baseContext(plan, meta),
    checkedArgs:
      `d_model=${pyNum(dims.dModel)}, d_state=${pyNum(dims.dState)}, headdim=${pyNum(dims.headdim)}, ` +
      `ngroups=${pyNum(dims.ngroups)}, expand=${pyNum(dims.expand)}`,
  };
}
