import { defineConfig } from "vitest/config";
import base from "./vitest.config.js";

// The nemesis harness (test/nemesis/): child processes, private nats-servers, seconds to minutes per test.
// `npm test` runs it after the main suite in its bounded form (a few seconds per nemesis); alone with
// `npm run test:nemesis`, at issue 12's scale with NEMESIS_SCALE=full.
export default defineConfig({
  resolve: base.resolve,
  test: {
    include: ["test/nemesis/**/*.test.ts", "examples/*/test/**/*.nemesis.test.ts"],
    testTimeout: 900_000,
    hookTimeout: 120_000,
    reporters: ["default"],
    pool: "forks",
    maxWorkers: 1,
  },
});
