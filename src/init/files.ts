/**
 * The files `gen init` writes: a project that builds at once. The example pipeline reads the
 * `app.orders` table of the demo database (`npm run demo` in the dagspec repository creates it), so
 * `gen introspect` against that database produces declarations the example can switch to.
 */
export interface InitOptions {
  /** Package name: the folder's name, made npm-safe. */
  name: string;
  /** The npm dependency spec for dagspec, e.g. `file:../dagspec` or `^0.1.0`. */
  dagspecDependency: string;
}

const EXAMPLE_SPEC = `/**
 * An example pipeline: orders and revenue per day, mailed every morning. Edit it, or replace its
 * source.tables with declarations from \`npx gen introspect\` (see README.md).
 */
import { definePipeline } from "dagspec";

export default definePipeline({
  id: "orders_daily",
  description: "Orders and revenue per day.",
  owner: "data-platform",
  tags: ["example"],
  schedule: { cron: "0 6 * * *", timezone: "Europe/London", startDate: "2026-01-01" },
  source: {
    connId: "app_db",
    name: "app",
    // The source is ready at once; replace with the signal your database offers (a load watermark).
    readiness: { sql: "select true" },
    tables: {
      orders: {
        schema: "app",
        description: "Orders as placed in the shop.",
        columns: { id: "bigint", user_id: "bigint", amount: "numeric(12,2)", status: "text", created_at: "timestamptz" },
        primaryKey: ["id"],
        extract: { mode: "incremental", cursor: "created_at" },
      },
    },
  },
  models: {
    stg_orders: {
      layer: "staging",
      description: "One row per order of the report day.",
      sql: { file: "sql/stg_orders.sql" },
      columns: {
        order_id: { tests: ["unique", "not_null"] },
        amount: { tests: ["not_null"] },
        status: {},
        ds: {},
      },
    },
    fct_orders_daily: {
      layer: "marts",
      description: "One row per report day.",
      sql: (q) => \`
        select ds, count(*) as orders, sum(amount) as revenue
        from \${q.ref("stg_orders")}
        where status <> 'cancelled'
        group by ds
      \`,
      columns: { ds: { tests: ["unique", "not_null"] }, orders: {}, revenue: {} },
    },
  },
  report: {
    model: "fct_orders_daily",
    dayColumn: "ds",
    kpis: [
      { column: "revenue", label: "Revenue", format: "currency" },
      { column: "orders", label: "Orders", format: "count" },
    ],
    subject: "Orders for {ds}",
    recipients: ["team@example.com"],
  },
});
`;

const EXAMPLE_SQL = `-- The report day's orders (ds is the local day the lake partition holds).
select id as order_id, amount, status, ds
from {{ source('app', 'orders') }}
where ds = '{{ var("ds") }}'
`;

const TSCONFIG = `{
  "compilerOptions": {
    "target": "ES2022",
    "module": "ESNext",
    "moduleResolution": "Bundler",
    "strict": true,
    "noEmit": true,
    "skipLibCheck": true,
    "allowImportingTsExtensions": true,
    "types": []
  },
  "include": ["specs"]
}
`;

const GITIGNORE = `node_modules/
# dbt's run artefacts, if you run dbt against generated/dbt locally
generated/dbt/*/target/
generated/dbt/*/logs/
`;

const CI = `# Fails the build when a spec does not compile or generated/ is not what the specs compile to.
name: dagspec
on: [push, pull_request]
jobs:
  check:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - uses: actions/setup-node@v4
        with: { node-version: 22 }
      - run: npm ci
      - run: npx gen build --check
`;

const README = (name: string) => `# ${name}

Pipelines compiled by [dagspec](https://github.com/) into Airflow 3 DAGs and dbt projects.

\`\`\`bash
npm install                 # once
npx gen build               # specs/*.pipeline.ts -> generated/ (dags/, dbt/)
npx gen build --check       # what CI runs: exit 1 if generated/ is out of date
npx gen introspect --conn postgres://user@host:5432/db --schema app   # typed source declarations
npx gen build --against postgres://user@host:5432/db                  # does the source still match?
npx gen deploy --to /path/to/airflow                                  # or s3://bucket/prefix
npx gen status --to /path/to/airflow                                  # what is deployed vs. the repo
\`\`\`

Commit \`generated/\`: reviewers see exactly what Airflow will run.
`;

export function initFiles(o: InitOptions): Map<string, string> {
  const pkg = {
    name: o.name,
    private: true,
    type: "module",
    scripts: { build: "gen build", check: "gen build --check" },
    dependencies: { dagspec: o.dagspecDependency },
  };
  return new Map([
    [".github/workflows/dagspec.yml", CI],
    [".gitignore", GITIGNORE],
    ["README.md", README(o.name)],
    ["package.json", `${JSON.stringify(pkg, null, 2)}\n`],
    ["specs/orders_daily.pipeline.ts", EXAMPLE_SPEC],
    ["specs/sql/stg_orders.sql", EXAMPLE_SQL],
    ["tsconfig.json", TSCONFIG],
  ]);
}

/** An npm package name from a folder name: lowercase, safe characters only. */
export function packageName(folder: string): string {
  const n = folder.toLowerCase().replace(/[^a-z0-9._-]+/g, "-").replace(/^[._-]+/, "");
  return n || "pipelines";
}
