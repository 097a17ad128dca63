/**
 * Which files a package has and how each is made: a template and a context
 * builder, or data serialised in TS (JSON files carry no header).
 */
import type { KernelName, KernelPlan } from '../lower/plan.ts';
import {
  baseContext,
  configContext,
  initContext,
  kernelsInitContext,
  moduleContext,
  pyprojectContext,
  type FileMeta,
  type TunedEntry,
} from './context.ts';

export interface TemplatedFile {
  /** Path inside kernels-out/<name>/, '/' separated. */
  readonly path: string;
  readonly template: string;
  readonly context: object;
}

/** The template of each kernel module (owned by the kernel authors). */
export const KERNEL_TEMPLATES: Readonly<Record<KernelName, string>> = {
  ssd_fused: 'python/kernels/ssd_fused.py.hbs',
  ssd_chunked: 'python/kernels/ssd_chunked.py.hbs',
  ssd_bwd: 'python/kernels/ssd_bwd.py.hbs',
  conv: 'python/kernels/conv.py.hbs',
  conv_bwd: 'python/kernels/conv_bwd.py.hbs',
  dt: 'python/kernels/dt.py.hbs',
  norm: 'python/kernels/norm.py.hbs',
  norm_bwd: 'python/kernels/norm_bwd.py.hbs',
};

export function templatedFiles(plan: KernelPlan, meta: FileMeta, tuned: readonly TunedEntry[]): TemplatedFile[] {
  const pkg = plan.name;
  const base = baseContext(plan, meta);
  return [
    { path: 'pyproject.toml', template: 'python/pyproject.toml.hbs', context: pyprojectContext(plan, meta) },
    { path: `${pkg}/__init__.py`, template: 'python/__init__.py.hbs', context: initContext(plan, meta) },
    { path: `${pkg}/_config.py`, template: 'python/_config.py.hbs', context: configContext(plan, meta, tuned) },
    { path: `${pkg}/module.py`, template: 'python/module.py.hbs', context: moduleContext(plan, meta) },
    { path: `${pkg}/functional.py`, template: 'python/functional.py.hbs', context: base },
    { path: `${pkg}/autograd.py`, template: 'python/autograd.py.hbs', context: base },
    { path: `${pkg}/kernels/__init__.py`, template: 'python/kernels/__init__.py.hbs', context: kernelsInitContext(plan, meta) },
    ...plan.kernels.map((k) => ({ path: `${pkg}/kernels/${k}.py`, template: KERNEL_TEMPLATES[k], context: { ...base, kernel: k } })),
  ];
}
