/** dagspec's public API: what spec files import. */
export { definePipeline } from "./spec/define.ts";
export type * from "./spec/types.ts";
