/**
 * The Handlebars environment: an isolated instance with our helpers and the
 * partials under templates/python/partials/. Compiled with noEscape (we write
 * Python, not HTML), strict (a missing context field is an error, not an empty
 * string) and knownHelpersOnly.
 */
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import Handlebars from 'handlebars';
import { helpers, knownHelpers } from './helpers.ts';

export const DEFAULT_TEMPLATES_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../../templates');

export class MissingTemplateError extends Error {
  override readonly name = 'MissingTemplateError';
}

export interface TemplateEnv {
  readonly dir: string;
  render(template: string, context: object): string;
  has(template: string): boolean;
}

export function createEnv(dir: string = DEFAULT_TEMPLATES_DIR): TemplateEnv {
  const hb = Handlebars.create();
  for (const [name, fn] of Object.entries(helpers)) hb.registerHelper(name, fn);
  const options = { noEscape: true, strict: true, knownHelpersOnly: true, knownHelpers };
  const partialsDir = join(dir, 'python', 'partials');
  if (existsSync(partialsDir)) {
    for (const f of readdirSync(partialsDir).sort()) {
      if (!f.endsWith('.hbs')) continue;
      hb.registerPartial(basename(f, '.hbs'), hb.compile(normalise(readFileSync(join(partialsDir, f), 'utf8')), options));
    }
  }
  const cache = new Map<string, ReturnType<typeof hb.compile>>();
  return {
    dir,
    has: (template) => existsSync(join(dir, template)),
    render(template, context) {
      let fn = cache.get(template);
      if (fn === undefined) {
        const path = join(dir, template);
        if (!existsSync(path)) throw new MissingTemplateError(`template ${path} does not exist`);
        fn = hb.compile(normalise(readFileSync(path, 'utf8')), options);
        cache.set(template, fn);
      }
      return normalise(fn(context));
    },
  };
}

/** LF line ends, no trailing spaces, exactly one final newline. */
function normalise(s: string): string {
  return `${s.replace(/\r\n?/g, '\n').replace(/[ \t]+$/gm, '').replace(/\n+$/, '')}\n`;
}
