import { basename } from 'node:path';
/** "examples/mamba2-simple.ts" -> "mamba2_simple" (validated later like any name). */
export function nameFromFile(file: string | undefined, fallback: string): string {
  if (!file) return fallback;
  return basename(file).replace(/\.[cm]?[jt]sx?$/, '').replace(/[-.\s]+/g, '_').toLowerCase();
}

/** "mamba2_simple" -> "Mamba2Simple". */
export function pascalCase(name: string): string {
  return name
    .split(/[_\W]+/)
    .filter(Boolean)
    .map((w) => w[0]!.toUpperCase() + w.slice(1))
    .join('');
}
