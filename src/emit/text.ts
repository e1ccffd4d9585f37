/** Word-wrapping for prose that lands in generated code (docstrings, doc_md), so lines stay short. */

export function wrapLine(line: string, width: number): string[] {
  if (line.length <= width) return [line];
  const indent = /^(\s*(?:[-*] |\d+\. )?)/.exec(line)?.[1] ?? "";
  const hang = " ".repeat(indent.length);
  const words = line.slice(indent.length).split(/ +/);
  const out: string[] = [];
  let cur = indent;
  for (const w of words) {
    const lead = out.length === 0 ? indent : hang;
    if (cur.length > lead.length && cur.length + 1 + w.length > width) {
      out.push(cur);
      cur = hang + w;
    } else cur = cur.length > lead.length ? `${cur} ${w}` : cur + w;
  }
  out.push(cur);
  return out;
}

export function wrapText(text: string, width: number): string {
  return text
    .split("\n")
    .flatMap((l) => wrapLine(l, width))
    .join("\n");
}
