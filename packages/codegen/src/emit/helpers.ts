/**
 * Every Handlebars helper the templates may use, registered in one place.
 * Templates are compiled with knownHelpersOnly, so a helper not listed here
 * is a compile error. Helpers only format or compare; decisions live in the
 * render contexts.
 */
import type { HelperDelegate } from 'handlebars';
import { pyBool, pyLiteral, pyNum } from './python.ts';

export const helpers: Readonly<Record<string, HelperDelegate>> = {
  /** {{#if (eq a b)}} */
  eq: (a: unknown, b: unknown) => a === b,
  ne: (a: unknown, b: unknown) => a !== b,
  not: (a: unknown) => !a,
  /** {{#if (and a b)}}: all arguments truthy (the last one is Handlebars' options). */
  and: (...args: unknown[]) => args.slice(0, -1).every(Boolean),
  or: (...args: unknown[]) => args.slice(0, -1).some(Boolean),
  /** {{join names ", "}} */
  join: (items: readonly unknown[], sep: unknown) => items.map(String).join(typeof sep === 'string' ? sep : ', '),
  /** {{py value}}: a JSON value as a Python literal (True/False/None, float("inf")). */
  py: (v: unknown) => pyLiteral(v),
  pyBool: (v: unknown) => pyBool(Boolean(v)),
  pyNum: (v: unknown) => pyNum(v as number | null),
  upper: (s: unknown) => String(s).toUpperCase(),
};

export const knownHelpers: Readonly<Record<string, true>> = Object.fromEntries(
  Object.keys(helpers).map((k) => [k, true] as const),
);
