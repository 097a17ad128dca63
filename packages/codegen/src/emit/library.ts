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
 * sha256 of a library file as a package carries it (without the header): the
 * `kernel_sha` a LaunchConfig records and a sweep measures (tuned.ts kernelSha).
 */
export function librarySha(libraryDir: string, source: string): string {
  return createHash('sha256').update(`${readLibrary(join(libraryDir, source))}\n`).digest('hex');
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
