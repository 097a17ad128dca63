/**
 * What module.py.hbs needs for inference: the decode layout of in_proj's
 * output and the keyword arguments of `ssd_step` (kernels/ssd_decode.py).
 * Decided here from the plan, like the forward's context.
 */
import type { KernelPlan, Slice } from '../lower/plan.ts';
import { pyBool, pyNum, pyTuple } from './python.ts';

export interface DecodeContext {
  /** `DecodeLayout(...)` Python expression. */
  readonly layout: string;
  readonly convDim: number;
  /** ssd_step keyword arguments after the layout. */
  readonly stepKwargs: readonly { readonly name: string; readonly value: string }[];
}

function span(s: Slice | null): string {
  return s === null ? 'None' : pyTuple([pyNum(s.start), pyNum(s.stop)]);
}

export function decodeContext(plan: KernelPlan): DecodeContext {
  const { scan, dt, conv, norm, inSplit, convSplit } = plan;
  const layout =
    `DecodeLayout(xBC=${span(inSplit.xBC)}, dt=${span(inSplit.dt)}, x=${span(convSplit.x)}, ` +
    `B=${span(convSplit.B)}, C=${span(convSplit.C)}, z=${span(inSplit.z)}` +
    (plan.mlp === null ? ')' : `, z0=${span(plan.mlp.z0)}, x0=${span(plan.mlp.x0)})`);
  const stepKwargs = [
    { name: 'headdim', value: 'self.headdim' },
    { name: 'dt_bias', value: dt.bias ? 'self.dt_bias' : 'None' },
    { name: 'D', value: scan.d === null ? 'None' : 'self.D' },
    { name: 'dt_softplus', value: pyBool(dt.softplus) },
    { name: 'dt_limit', value: 'self.dt_limit' },
    { name: 'activation', value: JSON.stringify(conv.activation) },
    { name: 'gate_z', value: pyBool(scan.gateZ) },
    ...(norm === null
      ? []
      : [
          { name: 'norm_weight', value: `self.${norm.param}.weight` },
          { name: 'norm_eps', value: `self.${norm.param}.eps` },
          { name: 'norm_group_size', value: pyNum(norm.groupSize) },
          { name: 'norm_gated', value: pyBool(norm.gated) },
          { name: 'norm_before_gate', value: pyBool(norm.normBeforeGate) },
        ]),
  ];
  return { layout, convDim: plan.dims.convDim, stepKwargs };
}
