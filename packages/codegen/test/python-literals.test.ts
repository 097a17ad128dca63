import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { pyFloat, pyNum } from '../src/emit/python.ts';

const ROOT = resolve(import.meta.dirname, '../../..');
const PYTHON = existsSync(join(ROOT, '.venv/bin/python')) ? join(ROOT, '.venv/bin/python') : 'python3';

/** Finite doubles of every shape JS prints: integers, tiny, huge, exponents both ways, subnormals. */
function finiteSamples(): number[] {
  const out = [0, -0, 1, -1, 0.5, 1e-5, 1e-7, 1.5e-7, 1e20, 1e21, 1.5e21, 2 ** 53, 2 ** 60, 123456789012345680000,
    Number.MAX_VALUE, -Number.MAX_VALUE, Number.MIN_VALUE, 2.2250738585072014e-308, 0.1 + 0.2];
  // A fixed-seed LCG: random mantissas over the whole exponent range, reproducible.
  let s = 12345;
  const rnd = () => ((s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  for (let i = 0; i < 400; i++) {
    const e = Math.floor(rnd() * 600) - 300;
    const v = (rnd() - 0.5) * 10 ** e;
    out.push(v, Math.round(v));
  }
  return out.filter(Number.isFinite);
}

describe('Python literals', () => {
  it('renders every finite float as a literal Python parses back to the same number (pyNum and pyFloat)', () => {
    const xs = finiteSamples();
    const lits = xs.flatMap((x) => [pyNum(x), pyFloat(x)]);
    // Python itself is the judge: ast.literal_eval each literal (a unary minus is an expression),
    // and print the repr of the float it reads, which JS parses exactly.
    const script = [
      'import ast, json, sys',
      'out = []',
      'for lit in json.load(sys.stdin):',
      '    try:',
      '        v = ast.literal_eval(lit)',
      '        out.append(repr(float(v)) if isinstance(v, (int, float)) else "not a number: " + lit)',
      '    except (SyntaxError, ValueError) as e:',
      '        out.append("invalid: " + lit)',
      'print(json.dumps(out))',
    ].join('\n');
    const back = JSON.parse(execFileSync(PYTHON, ['-c', script], { input: JSON.stringify(lits), encoding: 'utf8' })) as string[];
    const bad = back.filter((r) => r.startsWith('invalid') || r.startsWith('not a number'));
    expect(bad).toEqual([]);
    // (=== and not toBe: -0 written as "0" is fine, Python's 0 equals it.)
    back.forEach((r, i) => expect(Number(r) === xs[Math.floor(i / 2)], `${lits[i]} read back as ${r}`).toBe(true));
    // pyFloat gives a float literal (so Python keeps float arithmetic), never an int one.
    xs.forEach((x) => expect(pyFloat(x), String(x)).toMatch(/[.e]|inf/));
  });

  it('refuses NaN instead of writing something Python would misread', () => {
    expect(() => pyNum(Number.NaN)).toThrow(/NaN/);
  });
});
