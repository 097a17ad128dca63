/**
 * `pnpm run doctor`: what the runner will use (Python, torch, triton, CUDA, GPU)
 * and what to fix. Exit 0 when verify can run (on a GPU, or on CPU under
 * Triton's interpreter), 1 when it cannot.
 *
 *   pnpm run doctor [--python /path/to/python]
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Command } from 'commander';
import { RunnerError, SETUP_FIX } from '../worker/errors.ts';
import { findPython } from '../worker/python.ts';
import { WorkerSupervisor } from '../worker/supervisor.ts';

interface EnvInfo {
  python: string;
  executable: string;
  torch: string | null;
  triton: string | null;
  cuda: string | null;
  cuda_available: boolean;
  gpu: string | null;
  capability: number[] | null;
  triton_interpret: boolean;
  device: string;
  fixes: string[];
}

export async function runDoctor(opts: { python?: string; log?: (s: string) => void } = {}): Promise<number> {
  const log = opts.log ?? ((s: string) => console.log(s));
  const row = (k: string, v: string) => log(`  ${k.padEnd(10)} ${v}`);
  let found;
  try {
    found = await findPython({ python: opts.python });
  } catch (e) {
    log(`python     not found\n\n${(e as Error).message}`);
    return 1;
  }
  const sup = new WorkerSupervisor({ python: found.python, onStderr: () => undefined });
  try {
    const env = await sup.request<EnvInfo>('env', {}, { timeoutMs: 120_000 });
    log('mamba2 runner environment');
    row('python', `${env.python} (${env.executable}, from ${found.source})`);
    row('torch', env.torch ?? 'MISSING');
    row('triton', env.triton ?? 'MISSING');
    row('CUDA', env.cuda_available ? `${env.cuda} (available)` : env.cuda ? `${env.cuda} (no GPU visible)` : 'none (CPU build)');
    row('GPU', env.gpu ? `${env.gpu} (sm ${env.capability?.join('') ?? '?'})` : 'none');
    row('device', env.device === 'cuda' ? 'cuda: kernels compile for the GPU' : 'cpu: kernels run under TRITON_INTERPRET=1 (slow, for checking)');
    if (env.fixes.length) {
      log('\nto fix:');
      for (const f of env.fixes) log(`  - ${f}`);
    } else {
      log('\nnothing to fix.');
    }
    return env.torch && env.triton ? 0 : 1;
  } catch (e) {
    if (e instanceof RunnerError) {
      log(`\n${e.name}: ${e.message}`);
      return 1;
    }
    throw e;
  } finally {
    await sup.close();
  }
}

export async function runDoctorCli(argv: readonly string[]): Promise<number> {
  const program = new Command('doctor')
    .description(`check the Python side of the runner (set it up with \`${SETUP_FIX}\`)`)
    .option('--python <path>', 'Python interpreter (default: MAMBA2_PYTHON, .venv, python3)')
    .exitOverride();
  program.parse([...argv], { from: 'user' });
  return runDoctor(program.opts<{ python?: string }>());
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  runDoctorCli(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (e: unknown) => {
      if ((e as { code?: string }).code?.startsWith('commander.')) process.exit((e as { exitCode?: number }).exitCode ?? 2);
      console.error(e);
      process.exit(1);
    },
  );
}
