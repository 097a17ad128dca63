/**
 * Kernel library files, copied into a package byte for byte behind the
 * generated header. The library (packages/kernels) is the one source of every
 * kernel; codegen never edits a line of it, so a copy is reproducible from the
 * library and the header alone.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FileMeta } from './context.ts';
import { KERNEL_DEPENDENCIES } from '../lower/launch.ts';
import { combinedSha } from '../tuned.ts';
import { GENERATOR_NAME, GENERATOR_VERSION } from '../version.ts';

export const DEFAULT_LIBRARY_DIR = resolve(
  dirname(fileURLToPath(import.meta.url)),
  '../../../kernels/python/mamba2_kernels',
);

/** Where the header says a copy came from (stable across machines). */
export const LIBRARY_DISPLAY_PATH = 'packages/kernels/python/mamba2_kernels';

export class MissingLibraryFileError extends Error {
  override readonly name = 'MissingLibraryFileError';
}

const cache = new Map<string, string>();

function readLibrary(path: string): string {
  let text = cache.get(path);
  if (text === undefined) {
    if (!existsSync(path)) {
      throw new MissingLibraryFileError(
        `kernel library file ${path} does not exist. Restore it from git (git checkout -- ${path}) or pass the right libraryDir.`,
      );
    }
    text = readFileSync(path, 'utf8').replace(/\r\n?/g, '\n').replace(/[ \t]+$/gm, '').replace(/\n+$/, '');
    cache.set(path, text);
  }
  return text;
}

/**
 * sha256 of a library file as a package carries it (without the header):
 * tuned.ts kernelSha of its copy.
 */
export function librarySha(libraryDir: string, source: string): string {
  return createHash('sha256').update(`${readLibrary(join(libraryDir, source))}\n`).digest('hex');
}

/** librarySha of each file `entry` depends on (KERNEL_DEPENDENCIES). */
export function libraryFileShas(libraryDir: string, entry: string): Record<string, string> {
  const files = KERNEL_DEPENDENCIES[entry];
  if (files === undefined) throw new Error(`${entry} is not in KERNEL_DEPENDENCIES (lower/launch.ts); add it there`);
  return Object.fromEntries(files.map((f) => [f, librarySha(libraryDir, f)]));
}

/**
 * The kernel sha of `entry`: combinedSha over every library file it depends on
 * (KERNEL_DEPENDENCIES), as a package carries them. The `kernel_sha` a
 * LaunchConfig records, a sweep files its records under and `gen --tuned`
 * compares (tuned.ts kernelSetSha computes the same from a package's copies).
 */
export function librarySetSha(libraryDir: string, entry: string): string {
  return combinedSha(libraryFileShas(libraryDir, entry));
}

/** The header of every generated file, then the library's text unchanged. */
export function copiedLibraryFile(libraryDir: string, source: string, meta: FileMeta): string {
  const body = readLibrary(join(libraryDir, source));
  return (
    `# generated from ${meta.sourceFile} by ${GENERATOR_NAME} ${GENERATOR_VERSION} -- do not edit\n` +
    `# ir-hash: ${meta.irHash}\n` +
    `# copied from ${LIBRARY_DISPLAY_PATH}/${source}\n` +
    `${body}\n`
  );
}
