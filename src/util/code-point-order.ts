/**
 * Ordering that reaches output must not depend on the machine: `localeCompare` follows the process
 * locale (ICU collation), so a build under another LC_ALL reordered tables and `--check` saw drift.
 * This compares Unicode code points, the same everywhere (and like Python's sorted() on str).
 */
export function byCodePoint(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.codePointAt(i) as number;
    const y = b.codePointAt(i) as number;
    if (x !== y) return x - y;
    if (x > 0xffff) i++;
  }
  return a.length - b.length;
}
