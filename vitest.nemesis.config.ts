import { defineConfig } from "vitest/config";
import base from "./vitest.config.js";

// The nemesis harness (test/nemesis/): child processes, private nats-servers, seconds to minutes per test.
// Not part of `npm test`; run with `npm run test:nemesis` (bounded) or NEMESIS_SCALE=full (issue 12's scale).
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
