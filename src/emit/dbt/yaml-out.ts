import { stringify } from "yaml";

/**
 * Deterministic YAML: keys in the order the view builds them, no line folding, a header comment.
 * The yaml library quotes whatever needs quoting (Jinja `{{ }}`, leading specials), so no spec text
 * can break the document's structure.
 */
export function yamlFile(header: string, doc: unknown): string {
  const body = stringify(doc, { lineWidth: 0, minContentWidth: 0, indent: 2, indentSeq: true, aliasDuplicateObjects: false });
  return `${header}\n${body}`;
}
