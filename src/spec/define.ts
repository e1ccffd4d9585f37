import type { ColumnDoc, ColumnType, PipelineSpec } from "./types.ts";

/** Marks a value as a dagspec pipeline so the loader can tell it from other default exports. */
export const PIPELINE_BRAND: unique symbol = Symbol.for("dagspec.pipeline");

/**
 * Declares a pipeline. The generic parameters are inferred from the literal you pass, which is what
 * lets the editor offer (and the TypeScript compiler check) table, model and column names in
 * `ref`/`source`, relationships tests and report KPIs.
 *
 * @example
 * export default definePipeline({ id: "daily_metrics_pipeline", ... });
 */
export function definePipeline<
  const TableCols extends Record<string, Record<string, ColumnType>>,
  const ModelCols extends Record<string, Record<string, ColumnDoc<keyof ModelCols & string>>>,
  const R extends keyof ModelCols & string,
>(spec: PipelineSpec<TableCols, ModelCols, R>): PipelineSpec<TableCols, ModelCols, R> {
  Object.defineProperty(spec, PIPELINE_BRAND, { value: true, enumerable: false });
  return spec;
}

export function isPipeline(value: unknown): boolean {
  return typeof value === "object" && value !== null && (value as Record<symbol, unknown>)[PIPELINE_BRAND] === true;
}
