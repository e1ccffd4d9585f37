/** A lake in a local folder (a relative path resolves under the lake root variable, `ir.names.env.lakeRoot`). */
import type { PipelineIR } from "../../ir/types.ts";
import type { LakeTarget } from "./target.ts";

const own = (ir: PipelineIR) => (ir.lake.kind === "local" ? ir.lake : null);

export const localLakeTarget: LakeTarget = {
  lower: (spec) => ({ kind: "local", path: (spec.lake.kind === "local" ? spec.lake.path : undefined) ?? spec.id }),
  duckdbProfile: () => ({}),
  runtimeConfig: (ir) => ({ kind: "local", path: own(ir)!.path }),
  describe: (ir) => `local folder \`$${ir.names.env.lakeRoot}/${own(ir)!.path}\``,
};
