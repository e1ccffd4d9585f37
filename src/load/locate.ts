/**
 * Maps a field path (`["models", "stg_orders", "sql"]`) to a line and column in the spec file by
 * walking the object literal passed to definePipeline. Where the path leaves literal syntax (a
 * spread, a variable), the deepest node reached is reported: still the right neighbourhood.
 */
import { Node, SyntaxKind, type SourceFile } from "ts-morph";

export interface Position {
  line: number;
  col: number;
}

function specLiteral(sf: SourceFile): Node | undefined {
  const assignment = sf.getExportAssignment((e) => !e.isExportEquals());
  let expr: Node | undefined = assignment?.getExpression();
  for (let i = 0; i < 5 && expr; i++) {
    if (Node.isCallExpression(expr)) expr = expr.getArguments()[0];
    else if (Node.isAsExpression(expr) || Node.isSatisfiesExpression(expr) || Node.isParenthesizedExpression(expr))
      expr = expr.getExpression();
    else if (Node.isIdentifier(expr)) {
      const decl = expr.getDefinitionNodes()[0];
      expr = decl && Node.isVariableDeclaration(decl) ? decl.getInitializer() : undefined;
    } else break;
  }
  return expr;
}

function child(node: Node, key: string | number): Node | undefined {
  if (Node.isObjectLiteralExpression(node)) {
    for (const prop of node.getProperties()) {
      if (Node.isPropertyAssignment(prop) || Node.isShorthandPropertyAssignment(prop) || Node.isMethodDeclaration(prop)) {
        const nameNode = prop.getNameNode();
        const name = Node.isStringLiteral(nameNode) || Node.isNoSubstitutionTemplateLiteral(nameNode) ? nameNode.getLiteralText() : nameNode.getText();
        if (name === String(key)) return prop;
      }
    }
    return undefined;
  }
  if (Node.isArrayLiteralExpression(node) && typeof key === "number") return node.getElements()[key];
  return undefined;
}

function valueOf(node: Node): Node {
  if (Node.isPropertyAssignment(node)) {
    const init = node.getInitializer();
    if (init) return unwrap(init);
  }
  return unwrap(node);
}

function unwrap(node: Node): Node {
  let n = node;
  while (Node.isAsExpression(n) || Node.isSatisfiesExpression(n) || Node.isParenthesizedExpression(n)) n = n.getExpression();
  return n;
}

export function locate(sf: SourceFile, path: readonly (string | number)[]): Position {
  const root = specLiteral(sf);
  if (!root) return { line: 1, col: 1 };
  let node: Node = unwrap(root);
  let reported: Node = node;
  for (const key of path) {
    const next = child(node, key);
    if (!next) break;
    reported = next;
    node = valueOf(next);
  }
  // A property is reported at its name (where the eye looks); an array element at itself.
  const target = Node.isPropertyAssignment(reported) ? reported.getNameNode() : reported;
  const { line, column } = sf.getLineAndColumnAtPos(target.getStart());
  return { line, col: column };
}

/** Position of the n-th character of a string literal property's text (for SQL errors). */
export function stringLiteralStart(sf: SourceFile, path: readonly (string | number)[]): Node | undefined {
  const root = specLiteral(sf);
  if (!root) return undefined;
  let node: Node = unwrap(root);
  for (const key of path) {
    const next = child(node, key);
    if (!next) return undefined;
    node = valueOf(next);
  }
  return node.isKind(SyntaxKind.StringLiteral) || node.isKind(SyntaxKind.NoSubstitutionTemplateLiteral) ? node : undefined;
}
