/**
 * A small flag parser shared by the subcommands: `--name value`, `--name=value` and boolean flags,
 * positional arguments kept in order. Unknown flags are usage errors (exit 2), never ignored.
 */
export type FlagKind = "boolean" | "string";

export interface Parsed {
  flags: Record<string, string | boolean | undefined>;
  positional: string[];
}

export class UsageError extends Error {}

export function parseFlags(argv: readonly string[], kinds: Readonly<Record<string, FlagKind>>): Parsed {
  const out: Parsed = { flags: {}, positional: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (!a.startsWith("--")) {
      out.positional.push(a);
      continue;
    }
    const eq = a.indexOf("=");
    const name = a.slice(2, eq === -1 ? undefined : eq);
    const kind = kinds[name];
    if (!kind) throw new UsageError(`unknown option --${name}`);
    if (kind === "boolean") {
      if (eq !== -1) throw new UsageError(`--${name} takes no value`);
      out.flags[name] = true;
      continue;
    }
    const value = eq !== -1 ? a.slice(eq + 1) : argv[++i];
    if (value === undefined || (eq === -1 && value.startsWith("--"))) throw new UsageError(`--${name} needs a value`);
    out.flags[name] = value;
  }
  return out;
}

export const str = (p: Parsed, name: string): string | undefined => {
  const v = p.flags[name];
  return typeof v === "string" ? v : undefined;
};

export const bool = (p: Parsed, name: string): boolean => p.flags[name] === true;

export const wantsHelp = (argv: readonly string[]): boolean => argv.some((a) => a === "--help" || a === "-h");
