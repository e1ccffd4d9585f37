/** PostgreSQL: a schema per pipeline (plus its audit and raw schemas) on a connection. */
import type { PipelineIR } from "../../ir/types.ts";
import { dbtEnv, type WarehouseTarget } from "./target.ts";

const own = (ir: PipelineIR) => (ir.warehouse.kind === "postgres" ? ir.warehouse : null);

export const postgresTarget: WarehouseTarget = {
  profileOutput: (ir) => ({
    type: "postgres",
    host: dbtEnv("DAGSPEC_PG_HOST", "127.0.0.1"),
    port: `{{ env_var('DAGSPEC_PG_PORT', '5432') | as_number }}`,
    user: dbtEnv("DAGSPEC_PG_USER", "postgres"),
    password: dbtEnv("DAGSPEC_PG_PASSWORD", ""),
    dbname: dbtEnv("DAGSPEC_PG_DBNAME", "postgres"),
    schema: own(ir)?.auditSchema ?? `${ir.id}_audit`,
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
