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

export interface DeepPosition extends Position {
  /** Absolute path of the file holding the node: the spec, or a module it spreads values from. */
  filePath: string;
}

/**
 * Like `locate`, but where the literal spreads a value (`{ ...tables.orders, extract }`), follows the
 * spread to the object literal it names, in this file or an imported module (such as the one
 * `gen introspect` writes), so a column is reported where it is declared.
 */
export function locateDeep(sf: SourceFile, path: readonly (string | number)[]): DeepPosition {
  const root = specLiteral(sf);
  if (!root) return { filePath: sf.getFilePath(), line: 1, col: 1 };
  let node: Node = unwrap(root);
  let reported: Node = node;
  for (const key of path) {
    const next = child(node, key) ?? viaSpread(node, key);
    if (!next) break;
    reported = next;
    node = resolveObject(valueOf(next)) ?? valueOf(next);
  }
  const target = Node.isPropertyAssignment(reported) ? reported.getNameNode() : reported;
  const file = target.getSourceFile();
  const { line, column } = file.getLineAndColumnAtPos(target.getStart());
  return { filePath: file.getFilePath(), line, col: column };
}

/** Later spreads win in JavaScript, so they are searched first. */
function viaSpread(node: Node, key: string | number): Node | undefined {
  if (!Node.isObjectLiteralExpression(node)) return undefined;
  const spreads = node.getProperties().filter(Node.isSpreadAssignment).reverse();
  for (const s of spreads) {
    const target = resolveObject(s.getExpression());
    const found = target && (child(target, key) ?? viaSpread(target, key));
    if (found) return found;
  }
  return undefined;
}

/** The object literal an expression denotes, through identifiers (also imported ones) and property access. */
function resolveObject(expr: Node, depth = 0): Node | undefined {
  if (depth > 8) return undefined;
  const e = unwrap(expr);
  if (Node.isObjectLiteralExpression(e) || Node.isArrayLiteralExpression(e)) return e;
  if (Node.isIdentifier(e)) {
    const decl = e.getDefinitionNodes().find(Node.isVariableDeclaration);
    const init = decl?.getInitializer();
    return init ? resolveObject(init, depth + 1) : undefined;
  }
  if (Node.isPropertyAccessExpression(e)) {
    const owner = resolveObject(e.getExpression(), depth + 1);
    const prop = owner && (child(owner, e.getName()) ?? viaSpread(owner, e.getName()));
    return prop ? resolveObject(valueOf(prop), depth + 1) : undefined;
  }
  return undefined;
}
