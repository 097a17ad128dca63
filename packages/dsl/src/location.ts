import { dirname, relative, resolve, sep, isAbsolute } from 'node:path';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { SourceLoc } from './ir/nodes.ts';

/** packages/dsl/src: frames inside it are the DSL's own, never the user's. */
const DSL_SRC = dirname(fileURLToPath(import.meta.url));

function findRepoRoot(start: string): string {
  let dir = start;
  for (;;) {
    if (existsSync(resolve(dir, 'pnpm-workspace.yaml'))) return dir;
    const up = dirname(dir);
    if (up === dir) return resolve(start, '../../..');
    dir = up;
  }
}

/** The monorepo root; SourceLoc.file is relative to it. */
export const REPO_ROOT = findRepoRoot(DSL_SRC);

/** Repo-relative, forward slashes (absolute paths outside the repo stay absolute). */
export function repoRelative(file: string): string {
  const abs = isAbsolute(file) ? file : resolve(process.cwd(), file);
  const rel = relative(REPO_ROOT, abs);
  if (rel.startsWith('..') || isAbsolute(rel)) return abs.split(sep).join('/');
  return rel.split(sep).join('/');
}

export function absoluteFromRepo(file: string): string {
  return isAbsolute(file) ? file : resolve(REPO_ROOT, file);
}

const FRAME = /\(?((?:file:\/\/)?[^\s()]+?):(\d+):(\d+)\)?\s*$/;

/**
 * Where the user called into the DSL: the first stack frame outside
 * packages/dsl/src, node internals and node_modules. Relies on source maps
 * (tsx and vitest both map stacks back to the .ts lines).
 */
export function captureCallSite(): SourceLoc | null {
  const saved = Error.stackTraceLimit;
  Error.stackTraceLimit = 64;
  const stack = new Error().stack ?? '';
  Error.stackTraceLimit = saved;
  for (const raw of stack.split('\n').slice(1)) {
    const m = FRAME.exec(raw.trim());
    if (!m) continue;
    let file = m[1]!;
    if (file.startsWith('file://')) file = fileURLToPath(file);
    if (!isAbsolute(file)) continue; // node:internal, native, eval
    if (file.startsWith(DSL_SRC + sep) || file.includes(`${sep}node_modules${sep}`)) continue;
    return { file: repoRelative(file), line: Number(m[2]), column: Number(m[3]) };
  }
  return null;
}

export function formatLoc(loc: SourceLoc | null | undefined): string {
  return loc ? `${loc.file}:${loc.line}` : '';
}
