import { definePipeline } from "dagspec";

// Only full-snapshot tables, no SLA: a nightly stock position report.
export default definePipeline({
  id: "inventory_snapshot",
  description: "Nightly stock position by warehouse.",
  owner: "supply-chain",
  tags: ["inventory"],
  schedule: { cron: "30 4 * * 1-5", timezone: "Europe/Berlin", startDate: "2026-01-05", reportLagDays: 0 },
  source: {
    connId: "erp_db",
    name: "erp",
    readiness: { sql: "select true" },
    tables: {
      products: {
        schema: "erp",
        columns: { sku: "text", name: "text", unit_cost: "numeric(10,2)" },
        primaryKey: ["sku"],
        extract: { mode: "snapshot" },
      },
      stock: {
        schema: "erp",
        columns: { sku: "text", warehouse: "text", on_hand: "integer" },
        primaryKey: ["sku", "warehouse"],
        extract: { mode: "snapshot" },
      },
    },
  },
  models: {
    stg_stock: {
      layer: "staging",
      sql: "select sku, warehouse, on_hand, ds from {{ source('erp', 'stock') }} where ds = '{{ var(\"ds\") }}'",
      columns: { sku: { tests: ["not_null"] }, warehouse: {}, on_hand: {}, ds: {} },
    },
    stg_products: {
      layer: "staging",
      sql: "select sku, unit_cost from {{ source('erp', 'products') }} where ds = '{{ var(\"ds\") }}'",
      columns: { sku: { tests: ["unique", "not_null"] }, unit_cost: {} },
    },
    stock_value: {
      layer: "marts",
      sql: `select s.ds, sum(s.on_hand * p.unit_cost) as stock_value, sum(s.on_hand) as units
            from {{ ref('stg_stock') }} s join {{ ref('stg_products') }} p on p.sku = s.sku
            group by s.ds`,
      columns: { ds: { tests: ["unique"] }, stock_value: {}, units: {} },
    },
  },
  report: {
    model: "stock_value",
    dayColumn: "ds",
    kpis: [
      { column: "stock_value", label: "Stock value", format: "currency" },
      { column: "units", label: "Units on hand", format: "count" },
    ],
    subject: "Stock position {ds}",
    recipients: ["coo@example.com"],
    currency: "EUR",
  },
});
