/**
 * Which files a package has and how each is made: a template and a context
 * builder, or data serialised in TS (JSON files carry no header).
 */
import { isVisionPlan, type KernelName, type PackagePlan } from '../lower/plan.ts';
import {
  configContext,
  initContext,
  kernelsInitContext,
  moduleContext,
  pyprojectContext,
  type FileMeta,
} from './context.ts';
import { fragmentsContext } from './fragments.ts';
import { lmContext } from './lm-context.ts';
import { visionConfigContext, visionFragmentsContext, visionInitContext, visionModuleContext } from './vision-context.ts';
import type { LaunchConfig } from '@mamba2/dsl';

export interface TemplatedFile {
  /** Path inside kernels-out/<name>/, '/' separated. */
  readonly path: string;
  readonly template: string;
  readonly context: object;
}

/**
 * A file copied from the kernel library (packages/kernels/python/mamba2_kernels)
 * into the package, behind the generated header. Kernels are not templates:
 * their one source is the library, which has its own tests.
 */
export interface LibraryFile {
  /** Path inside kernels-out/<name>/, '/' separated. */
  readonly path: string;
  /** Path inside the library package mamba2_kernels/, '/' separated. */
  readonly source: string;
}

/** The library module of each kernel (owned by the kernel authors, tested in packages/kernels). */
export const KERNEL_SOURCES: Readonly<Record<KernelName, string>> = {
  ssd_fused: 'kernels/ssd_fused.py',
  ssd_chunked: 'kernels/ssd_chunked.py',
  ssd_bwd: 'kernels/ssd_bwd.py',
  conv: 'kernels/conv.py',
  conv_bwd: 'kernels/conv_bwd.py',
  dt: 'kernels/dt.py',
  norm: 'kernels/norm.py',
  norm_bwd: 'kernels/norm_bwd.py',
  conv2d: 'kernels/conv2d.py',
  conv2d_bwd: 'kernels/conv2d_bwd.py',
  cross_scan: 'cross_scan.py',
  cross_merge: 'kernels/cross_merge.py',
};

/** Library files every package carries besides its kernels. */
const LIBRARY_COMMON: readonly string[] = [
  'functional.py',
  'autograd.py',
  'block.py',
  'inference.py',
  'language_model.py',
  'launch.py',
  'kernels/ssd_decode.py',
  'fragments.py',
  'kernels/host.py',
  'kernels/fastlaunch.py',
  'kernels/ssd_common.py',
  'kernels/ssd_fused_dispatch.py',
  'kernels/ssd_fused_one.py',
  'kernels/ssd_bwd_T.py',
  'kernels/ssd_bwd_v6.py',
  'kernels/ssd_bwd_common.py',
  'kernels/smem.py',
  'custom_ops.py',
  'varlen.py',
  'kernels/conv_varlen.py',
  'kernels/ssd_varlen.py',
];

/** Library files a vision package carries besides LIBRARY_COMMON and its kernels. */
const LIBRARY_VISION: readonly string[] = ['conv2d_autograd.py'];

export function libraryFiles(plan: PackagePlan): LibraryFile[] {
  const pkg = plan.name;
  return [
    ...LIBRARY_COMMON.map((source) => ({ path: `${pkg}/${source}`, source })),
    ...(isVisionPlan(plan) ? LIBRARY_VISION.map((source) => ({ path: `${pkg}/${source}`, source })) : []),
    ...plan.kernels.map((k) => ({ path: `${pkg}/${KERNEL_SOURCES[k]}`, source: KERNEL_SOURCES[k] })),
  ];
}

export function templatedFiles(plan: PackagePlan, meta: FileMeta, launch: LaunchConfig): TemplatedFile[] {
  const pkg = plan.name;
  if (isVisionPlan(plan)) {
    // no lm.py: a vision block is not a layer of the language model
    return [
      { path: 'pyproject.toml', template: 'python/pyproject.toml.hbs', context: pyprojectContext(plan, meta) },
      { path: `${pkg}/__init__.py`, template: 'python/__init__.py.hbs', context: visionInitContext(plan, meta) },
      { path: `${pkg}/_config.py`, template: 'python/_config.py.hbs', context: visionConfigContext(plan, meta, launch) },
      { path: `${pkg}/module.py`, template: 'python/vision_module.py.hbs', context: visionModuleContext(plan, meta, launch) },
      { path: `${pkg}/py.typed`, template: 'python/py.typed.hbs', context: visionInitContext(plan, meta) },
      { path: `${pkg}/kernels/__init__.py`, template: 'python/kernels/__init__.py.hbs', context: kernelsInitContext(plan, meta) },
      { path: `${pkg}/_fragments.py`, template: 'python/_fragments.py.hbs', context: visionFragmentsContext(plan, meta) },
    ];
  }
  return [
    { path: 'pyproject.toml', template: 'python/pyproject.toml.hbs', context: pyprojectContext(plan, meta) },
    { path: `${pkg}/__init__.py`, template: 'python/__init__.py.hbs', context: initContext(plan, meta) },
    { path: `${pkg}/_config.py`, template: 'python/_config.py.hbs', context: configContext(plan, meta, launch) },
    { path: `${pkg}/module.py`, template: 'python/module.py.hbs', context: moduleContext(plan, meta, launch) },
    { path: `${pkg}/lm.py`, template: 'python/lm.py.hbs', context: lmContext(plan, meta) },
    { path: `${pkg}/py.typed`, template: 'python/py.typed.hbs', context: initContext(plan, meta) },
    { path: `${pkg}/kernels/__init__.py`, template: 'python/kernels/__init__.py.hbs', context: kernelsInitContext(plan, meta) },
    { path: `${pkg}/_fragments.py`, template: 'python/_fragments.py.hbs', context: fragmentsContext(plan, meta) },
  ];
}
