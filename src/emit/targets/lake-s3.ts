/** A lake under an S3 (or S3-compatible) prefix, reached through an Airflow AWS connection. */
import type { PipelineIR } from "../../ir/types.ts";
import { dbtEnv, type LakeTarget } from "./target.ts";

const own = (ir: PipelineIR) => (ir.lake.kind === "s3" ? ir.lake : null);

export const s3LakeTarget: LakeTarget = {
  lower: (spec) => {
    if (spec.lake.kind !== "s3") throw new Error(`not an S3 lake: ${spec.lake.kind}`);
    // No leading or trailing slash: the runtime joins bucket, prefix and the layout with one "/".
    return { kind: "s3", bucket: spec.lake.bucket, prefix: (spec.lake.prefix ?? spec.id).replace(/^\/+|\/+$/g, ""), connId: spec.lake.connId };
  },
  // Reads s3:// through fsspec (s3fs) registered on the connection: no httpfs extension download.
  duckdbProfile: (ir) => ({
    filesystems: [
      {
        fs: "s3",
        anon: false,
        key: dbtEnv(ir.names.env.s3Key, ""),
        secret: dbtEnv(ir.names.env.s3Secret, ""),
        client_kwargs: { endpoint_url: dbtEnv(ir.names.env.s3EndpointUrl, "https://s3.amazonaws.com"), region_name: dbtEnv(ir.names.env.s3Region, "us-east-1") },
      },
    ],
  }),
  runtimeConfig: (ir) => {
    const lake = own(ir)!;
    return { kind: "s3", bucket: lake.bucket, prefix: lake.prefix, conn_id: lake.connId };
  },
  describe: (ir) => {
    const lake = own(ir)!;
    return `\`s3://${lake.bucket}/${lake.prefix}\` (connection \`${lake.connId}\`)`;
  },
};
