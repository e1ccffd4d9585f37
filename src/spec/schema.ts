/**
 * Runtime validation of a loaded spec. The generic types in `types.ts` guide authors in the editor;
 * this schema checks what types cannot (formats, ranges, identifier safety) and catches specs that
 * bypass the types (`as any`, plain JavaScript). Every issue carries a path that the locator turns
 * into a line and column in the spec file.
 */
import { z } from "zod";
import { IANA_ZONES, TZDATA_VERSION } from "../time/iana-zones.ts";
import { printable } from "../diagnostics/printable.ts";

/** dbt/SQL/Python-safe identifier: no quoting ever needed, nothing to inject. */
export const IDENT = /^[a-z_][a-z0-9_]{0,62}$/;
const ident = (what: string) =>
  z
    .string()
    .regex(IDENT, `${what} must be lowercase letters, digits and underscores, starting with a letter or underscore (max 63)`)
    // As an object key it would set the prototype instead of naming an entry: the name would vanish.
    .refine((s) => s !== "__proto__", `${what} cannot be __proto__`);
const connId = z
  .string()
  // Airflow allows 250 characters; 80 keeps every generated line that names one within ruff's 110.
  .regex(/^[A-Za-z0-9_.-]{1,80}$/, "connection ids are 1-80 letters, digits, '_', '.', '-'")
  .describe("An Airflow connection id. Example: `app_db`.");
/** Free text that ends up in Python strings, YAML and HTML: printable, single line unless stated. */
const text = (max: number) =>
  z
    .string()
    .max(max)
    .refine((s) => !/[\u0000-\u0008\u000b-\u001f\u007f]/.test(s), "control characters are not allowed")
    // Half of a UTF-16 pair has no UTF-8 encoding: YAML and Python files would hold U+FFFD or fail.
    .refine((s) => !/[\uD800-\uDFFF]/u.test(s), "a lone UTF-16 surrogate is not text");
const oneLine = (max: number) => text(max).refine((s) => !/[\r\n]/.test(s), "must be a single line");
/**
 * A practical address check: one @, a dotted domain, printable ASCII only (no NUL or other control
 * characters that could break a mail header line; smtplib sends addresses as ASCII).
 */
const email = z.string().max(90).regex(/^[!-~]+$/, "not an email address: printable ASCII only").regex(/^[^\s@"<>,;\\]+@[^\s@"'<>,;\\]+\.[A-Za-z]{2,}$/, "not an email address");
/**
 * Whether text, written as a Python string literal (escapes included, wide characters counted
 * twice as ruff does), fits `max` columns: a generated line over 110 fails ruff's E501.
 */
const fitsPythonLine = (max: number) => (s: string) => {
  const literal = JSON.stringify(s).slice(1, -1);
  let width = 0;
  for (const ch of literal) width += ch.codePointAt(0)! > 0x7f ? 2 : 1;
  return width <= max;
};
const severity = z.enum(["error", "warn"]);

export const columnType = z
  .string()
  .regex(
    /^(bigint|integer|smallint|numeric\((\d{1,2}),(\d{1,2})\)|double precision|real|text|varchar|boolean|date|timestamp|timestamptz|uuid|jsonb)$/,
    "unsupported column type (bigint, integer, smallint, numeric(p,s), double precision, real, text, varchar, boolean, date, timestamp, timestamptz, uuid, jsonb)",
  );

const sqlSource = z.union([
  text(200_000),
  z.object({ file: z.string().regex(/^[A-Za-z0-9_./-]+\.sql$/, "must be a relative path to a .sql file") }).strict(),
  z.custom<(...args: never[]) => string>((v) => typeof v === "function", "expected SQL text, { file }, or a function"),
]);

const table = z
  .object({
    schema: ident("schema").default("public"),
    description: oneLine(500).optional(),
    columns: z.record(ident("column name"), columnType).refine((c) => Object.keys(c).length > 0, "declare at least one column"),
    primaryKey: z.array(ident("column name")).min(1),
    extract: z.discriminatedUnion("mode", [
      z.object({ mode: z.literal("incremental"), cursor: ident("column name") }).strict(),
      z.object({ mode: z.literal("snapshot") }).strict(),
      z.object({ mode: z.literal("history"), cursor: ident("column name") }).strict(),
    ]),
  })
  .strict();

const columnTest = z.union([
  z.enum(["unique", "not_null"]),
  z.object({ unique: z.object({ severity: severity.optional() }).strict() }).strict(),
  z.object({ not_null: z.object({ severity: severity.optional() }).strict() }).strict(),
  z
    .object({
      accepted_values: z
        .object({ values: z.array(z.union([oneLine(200), z.number()])).min(1), severity: severity.optional() })
        .strict(),
    })
    .strict(),
  z
    .object({
      relationships: z.object({ to: ident("model name"), field: ident("column name"), severity: severity.optional() }).strict(),
    })
    .strict(),
  z
    .object({
      expression: z.object({ sql: oneLine(2000), name: ident("test name"), severity: severity.optional() }).strict(),
    })
    .strict(),
]);

const model = z
  .object({
    layer: z.enum(["staging", "intermediate", "marts"]),
    description: oneLine(500).optional(),
    sql: sqlSource,
    materialized: z
      .union([
        z.enum(["view", "table"]),
        z
          .object({
            kind: z.literal("incremental"),
            uniqueKey: z.array(ident("column name")).min(1),
            partitionColumn: ident("column name"),
          })
          .strict(),
      ])
      .optional(),
    columns: z
      .record(
        ident("column name"),
        z.object({ description: oneLine(500).optional(), tests: z.array(columnTest).optional() }).strict(),
      )
      .refine((c) => Object.keys(c).length > 0, "declare at least one column"),
  })
  .strict();

/** A relative lake or warehouse path is resolved under its root folder; `..` would leave it. */
const staysUnder = (p: string) => !p.split("/").includes("..");
const STAYS_UNDER = "a '..' segment would leave the root folder the path is resolved under";

const hhmm = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, "must be HH:MM (24-hour)");
const isoDate = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, "must be YYYY-MM-DD")
  .refine((s) => !Number.isNaN(Date.parse(`${s}T00:00:00Z`)) && new Date(`${s}T00:00:00Z`).toISOString().startsWith(s), "not a calendar date")
  // Airflow computes run dates with Python's datetime (years 1-9999) from the start date onwards,
  // and JavaScript's Date.UTC reads years below 100 as 19xx: keep well inside both.
  .refine((s) => s >= "1900-01-01" && s <= "2999-12-31", "a start date between 1900-01-01 and 2999-12-31");
/**
 * Exactly the names Airflow's pendulum resolves from the pinned tzdata, in their exact case and
 * without deprecated links: JavaScript's Intl also accepts `america/new_york` and `US/Eastern`.
 */
const timezone = z.string().superRefine((tz, ctx) => {
  if (IANA_ZONES.has(tz)) return;
  const sameButCase = [...IANA_ZONES].find((z) => z.toLowerCase() === tz.toLowerCase());
  const shown = printable(tz, 80);
  ctx.addIssue({
    code: "custom",
    message: sameButCase
      ? `'${shown}' is spelled '${sameButCase}' (Airflow's pendulum is case-sensitive)`
      : `'${shown}' is not a canonical IANA timezone of tzdata ${TZDATA_VERSION} (deprecated links such as US/Eastern are refused; e.g. America/New_York)`,
  });
});

export const pipelineSchema = z
  .object({
    // Airflow allows 250 characters; 64 keeps the generated lines that name it within ruff's 110.
    id: z.string().regex(/^[a-z][a-z0-9_]{0,63}$/, "a pipeline id is a dag_id and Python identifier: 1-64 lowercase letters, digits, underscores"),
    description: oneLine(300),
    owner: oneLine(80).regex(/^[A-Za-z0-9_. -]+$/, "owner is letters, digits, '_', '.', '-' and spaces"),
    tags: z.array(z.string().regex(/^[a-z0-9_-]{1,40}$/, "tags are lowercase letters, digits, '_' and '-'")).default([]),
    schedule: z
      .object({
        cron: z.string().max(100),
        timezone,
        startDate: isoDate,
        catchup: z.boolean().default(false),
        retries: z.number().int().min(0).max(20).default(2),
        retryDelayMinutes: z.number().int().min(0).max(1440).default(5),
        maxActiveRuns: z.number().int().min(1).max(64).default(1),
        reportLagDays: z.number().int().min(0).max(31).default(1),
      })
      .strict(),
    sla: z
      .object({
        deliverBy: hhmm,
        atRiskLeadMinutes: z.number().int().min(1).max(720).default(30),
        pagerduty: z
          .object({ connId, severity: z.enum(["critical", "error", "warning", "info"]).default("critical") })
          .strict(),
        engineers: z.array(email).min(1),
        smtpConnId: connId.optional(),
      })
      .strict()
      .optional(),
    source: z
      .object({
        connId,
        name: ident("source name").default("app"),
        readiness: z
          .object({
            sql: text(10_000),
            pokeIntervalSeconds: z.number().int().min(10).max(86_400).default(300),
            timeoutMinutes: z.number().int().min(1).max(1440).default(120),
          })
          .strict(),
        tables: z.record(ident("table name"), table).refine((t) => Object.keys(t).length > 0, "declare at least one table"),
      })
      .strict(),
    lake: z
      .discriminatedUnion("kind", [
        z.object({ kind: z.literal("local"), path: z.string().max(80).regex(/^[A-Za-z0-9_./-]+$/, "a path of letters, digits, '_', '.', '/', '-'").refine(staysUnder, STAYS_UNDER).optional() }).strict(),
        z
          .object({
            kind: z.literal("s3"),
            bucket: z.string().regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, "not a valid S3 bucket name"),
            prefix: z.string().max(80).regex(/^[A-Za-z0-9_.\/-]*$/, "prefix is letters, digits, '_', '.', '/', '-'").optional(),
            connId: connId.default("aws_default"),
          })
          .strict(),
      ])
      .default({ kind: "local" }),
    warehouse: z
      .discriminatedUnion("kind", [
        z.object({ kind: z.literal("duckdb"), path: z.string().max(80).regex(/^[A-Za-z0-9_./-]+\.duckdb$/, "a .duckdb file path").refine(staysUnder, STAYS_UNDER).optional() }).strict(),
        z.object({ kind: z.literal("postgres"), connId, schema: ident("schema"), rawSchema: ident("schema").optional() }).strict(),
      ])
      .default({ kind: "duckdb" }),
    models: z.record(ident("model name"), model).refine((m) => Object.keys(m).length > 0, "declare at least one model"),
    tests: z
      .record(
        ident("test name"),
        z.object({ description: oneLine(500).optional(), sql: sqlSource, severity: severity.default("error") }).strict(),
      )
      .default({}),
    report: z
      .object({
        model: ident("model name"),
        dayColumn: ident("column name"),
        kpis: z
          .array(z.object({ column: ident("column name"), label: oneLine(60), format: z.enum(["currency", "count", "percent", "ratio"]) }).strict())
          .min(1),
        subject: oneLine(200).refine(fitsPythonLine(88), "the subject is too long for one line of the generated DAG (at most 88 columns once quoted)"),
        recipients: z.array(email).min(1),
        smtpConnId: connId.default("smtp_default"),
        currency: z.string().regex(/^[A-Z]{3}$/, "an ISO 4217 code such as USD").default("USD"),
        emailBackfills: z.boolean().default(false),
        corrections: z.enum(["send", "alert"]).default("send"),
      })
      .strict(),
  })
  .strict();

export type CheckedSpec = z.output<typeof pipelineSchema>;
