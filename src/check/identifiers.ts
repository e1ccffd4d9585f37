/**
 * Names the compiler derives from spec names must survive PostgreSQL, which silently truncates
 * identifiers to 63 bytes: `<schema>_audit` cut back to `<schema>` would make the audit schema the
 * published one, and write-audit-publish would publish unaudited tables. Each derived name must fit,
 * and the audit, published and raw schemas must be three different schemas.
 */
import type { CheckedSpec } from "../spec/schema.ts";
import { warehouseTargetOf } from "../emit/targets/select.ts";
import type { Reporter } from "./context.ts";

export const PG_MAX_IDENTIFIER_BYTES = 63;

const bytes = (s: string) => Buffer.byteLength(s, "utf8");

export function checkDerivedIdentifiers(spec: CheckedSpec, report: Reporter): void {
  // Both dbt targets are always generated; on DuckDB pipelines the PostgreSQL one is named from the id.
  const { base, basePath, audit, raw, distinct } = warehouseTargetOf(spec.warehouse.kind).derivedSchemas(spec);
  for (const name of [audit, raw]) {
    if (bytes(name) > PG_MAX_IDENTIFIER_BYTES)
      report.error(
        "DS1221",
        basePath,
        `the derived schema name '${name}' is ${bytes(name)} bytes; PostgreSQL truncates names to ${PG_MAX_IDENTIFIER_BYTES}`,
        `shorten it to at most ${PG_MAX_IDENTIFIER_BYTES - (bytes(name) - bytes(base))} characters, so '${name}' stays distinct`,
      );
  }
  for (const [i, { role, name, path }] of distinct.entries()) {
    const clash = distinct.slice(0, i).find((other) => other.name === name);
    if (clash) report.error("DS1221", path, `the ${role} schema '${name}' is also the ${clash.role} schema`, "write-audit-publish needs three different schemas");
  }
}
