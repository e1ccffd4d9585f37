/** The demo OLTP source database `demo_shop`: schema, seeded generator, readiness signal, oracle. */
export { createDemoShop, type DemoShopCounts, type DemoShopResult } from "./create-demo-shop.ts";
export {
  DEFAULT_DATABASE_URL,
  DEFAULT_ORDERS_PER_DAY,
  DEFAULT_SEED,
  DEFAULT_TIMEZONE,
  GENERATOR_VERSION,
  type DemoShopOptions,
  type SeedParams,
} from "./options.ts";
export { APP_TABLES, EVENT_TYPES, ORDER_STATUSES, type AppTable } from "./schema.ts";
export { READINESS_SQL, checkReadiness, readinessParams, toPositional, type ReadinessParams } from "./readiness.ts";
export { LOCAL_DAY_BOUNDS_SQL, localDayBounds, type LocalDayBounds } from "./local-day.ts";
export { SOURCE_KPIS_SQL, sourceKpis, type SourceKpis, type SourceKpisQuery } from "./source-kpis.ts";
export {
  clearMaintenance,
  clearWatermark,
  insertEvent,
  insertOrder,
  insertUser,
  setMaintenance,
  setWatermark,
  type EventRow,
  type MaintenanceWindow,
  type OrderRow,
  type UserRow,
} from "./fixtures.ts";
export { dropDatabase, ensureDatabase, withClient, type Queryable } from "./database.ts";
