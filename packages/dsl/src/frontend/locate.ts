import { Node as TsNode, SyntaxKind, type ObjectLiteralExpression, type SourceFile } from 'ts-morph';
import type { SourceLoc } from '../ir/nodes.ts';

/**
 * Moves a call-site location to the line that assigns one of `props` inside
 * that call's object-literal argument: an error about `headdim` in
 * `mamba2({ ..., headdim: 48 })` lands on the `headdim: 48` line. Props are
 * dotted paths ("codegen.blockP"); the first one found wins. Returns `loc`
 * unchanged when the call or the property cannot be found (a defaulted
 * argument has no line of its own).
 */
export function refineLoc(sf: SourceFile, loc: SourceLoc, props: readonly string[]): SourceLoc {
  if (props.length === 0) return loc;
  const calls = callsAt(sf, loc);
  for (const prop of props) {
    for (const call of calls) {
      for (const arg of call.getArguments()) {
        const obj = objectLiteralOf(arg);
        const hit = obj && findProp(obj, prop.split('.'));
        if (hit) {
          const { line, column } = sf.getLineAndColumnAtPos(hit.getStart());
          return { file: loc.file, line, column };
        }
      }
    }
  }
  return loc;
}

/** Calls whose callee (or method name, in a chain) starts at loc; else any call on that line. */
function callsAt(sf: SourceFile, loc: SourceLoc) {
  const all = sf.getDescendantsOfKind(SyntaxKind.CallExpression);
  const anchorsOf = (c: (typeof all)[number]) => {
    const callee = c.getExpression();
    const nodes = [c, callee];
    if (TsNode.isPropertyAccessExpression(callee)) nodes.push(callee.getNameNode());
    return nodes.map((n) => sf.getLineAndColumnAtPos(n.getStart()));
  };
  const exact = all.filter((c) => anchorsOf(c).some((a) => a.line === loc.line && a.column === loc.column));
  if (exact.length) return exact;
  return all.filter((c) => anchorsOf(c).some((a) => a.line === loc.line));
}

function objectLiteralOf(n: TsNode): ObjectLiteralExpression | undefined {
  if (TsNode.isObjectLiteralExpression(n)) return n;
  if (TsNode.isAsExpression(n) || TsNode.isSatisfiesExpression(n) || TsNode.isParenthesizedExpression(n)) {
    return objectLiteralOf(n.getExpression());
  }
  if (TsNode.isIdentifier(n)) {
    // `const opts = {...}; mamba2(opts)`: follow the binding once.
    const decl = n.getSymbol()?.getDeclarations()[0];
    if (decl && TsNode.isVariableDeclaration(decl)) {
      const init = decl.getInitializer();
      return init ? objectLiteralOf(init) : undefined;
    }
  }
  return undefined;
}

function findProp(obj: ObjectLiteralExpression, path: readonly string[]): TsNode | undefined {
  const [head, ...rest] = path;
  if (head === undefined) return undefined;
  const p = obj.getProperty(head);
  if (!p) return undefined;
  if (rest.length === 0) return p;
  if (TsNode.isPropertyAssignment(p)) {
    const init = p.getInitializer();
    const inner = init && objectLiteralOf(init);
    return (inner && findProp(inner, rest)) ?? p;
  }
  return p;
}
