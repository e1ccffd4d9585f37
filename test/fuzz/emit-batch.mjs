#!/usr/bin/env node
// Launcher for emit-batch.ts (TypeScript through jiti, as bin/gen.js does).
import { createJiti } from "jiti";
import { fileURLToPath } from "node:url";

const jiti = createJiti(import.meta.url, { moduleCache: false, fsCache: false, alias: { dagspec: fileURLToPath(new URL("../../src/index.ts", import.meta.url)) } });
const { emitBatch } = await jiti.import("./emit-batch.ts");
const [out, count = "12", seed = "1"] = process.argv.slice(2);
if (!out) {
  process.stderr.write("usage: emit-batch.mjs <out-dir> <count> [seed]\n");
  process.exit(2);
}
const { written, tried } = await emitBatch(out, Number(count), Number(seed));
process.stdout.write(`${JSON.stringify({ written, tried })}\n`);
