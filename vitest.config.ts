import { defineConfig } from "vitest/config";

export default defineConfig({
  resolve: { alias: { dagspec: new URL("./src/index.ts", import.meta.url).pathname } },
  test: {
    include: ["test/**/*.test.ts"],
    // Builds type-check specs with the TypeScript compiler: seconds, not milliseconds.
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: "forks",
  },
});
