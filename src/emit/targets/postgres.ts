/** PostgreSQL: a schema per pipeline (plus its audit and raw schemas) on a connection. */
import type { PipelineIR } from "../../ir/types.ts";
import type { CheckedSpec } from "../../spec/schema.ts";
import { dbtEnv, type WarehouseTarget } from "./target.ts";

const own = (ir: PipelineIR) => (ir.warehouse.kind === "postgres" ? ir.warehouse : null);

const ownSpec = (spec: CheckedSpec) => {
  if (spec.warehouse.kind !== "postgres") throw new Error(`not a PostgreSQL warehouse: ${spec.warehouse.kind}`);
  return spec.warehouse;
};

export const postgresTarget: WarehouseTarget = {
  lower: (spec) => {
    const wh = ownSpec(spec);
    return {
      kind: "postgres",
      connId: wh.connId,
      schema: wh.schema,
      rawSchema: wh.rawSchema ?? `${wh.schema}_raw`,
      auditSchema: `${wh.schema}_audit`,
      publishSchema: wh.schema,
    };
  },
  readsLake: false,
  derivedSchemas: (spec) => {
    const wh = ownSpec(spec);
    const audit = `${wh.schema}_audit`;
    const raw = wh.rawSchema ?? `${wh.schema}_raw`;
    return {
      base: wh.schema,
      basePath: ["warehouse", "schema"],
      audit,
      raw,
      distinct: [
        { role: "published", name: wh.schema, path: ["warehouse", "schema"] },
        { role: "audit", name: audit, path: ["warehouse", "schema"] },
        { role: "raw", name: raw, path: ["warehouse", "rawSchema"] },
      ],
    };
  },
  profileOutput: (ir) => ({
    type: "postgres",
    host: dbtEnv(ir.names.env.pgHost, "127.0.0.1"),
    port: `{{ env_var('${ir.names.env.pgPort}', '5432') | as_number }}`,
    user: dbtEnv(ir.names.env.pgUser, "postgres"),
    password: dbtEnv(ir.names.env.pgPassword, ""),
    dbname: dbtEnv(ir.names.env.pgDbname, "postgres"),
    schema: own(ir)?.auditSchema ?? `${ir.id}_audit`,
    // Names this audit schema's dbt sessions, so the next build can end those a killed build left.
    application_name: dbtEnv("DAGSPEC_DBT_APPLICATION_NAME", "dbt"),
    threads: 4,
  }),
  rawSchema: (ir) => own(ir)?.rawSchema ?? `${ir.id}_raw`,
  runtimeConfig: (ir) => {
    const wh = own(ir)!;
    return { kind: "postgres", conn_id: wh.connId, audit_schema: wh.auditSchema, publish_schema: wh.publishSchema, raw_schema: wh.rawSchema };
  },
  describe: (ir) => {
    const wh = own(ir)!;
    return `PostgreSQL \`${wh.schema}\` (connection \`${wh.connId}\`)`;
  },
};
