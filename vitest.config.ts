import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

const src = (path: string) => fileURLToPath(new URL(path, import.meta.url));

// Tests import workspace packages from source so they never run against a stale build.
// Child-process tests (two writers, the counter end-to-end) run the built `dist/` instead,
// which is why `npm test` builds first.
export default defineConfig({
  resolve: {
    alias: [
      {
        find: /^@eventsourced\/core\/testing\/vitest$/,
        replacement: src("./packages/core/src/testing/vitest/index.ts"),
      },
      { find: /^@eventsourced\/core\/testing$/, replacement: src("./packages/core/src/testing/index.ts") },
      { find: /^@eventsourced\/core\/rxjs$/, replacement: src("./packages/core/src/rxjs.ts") },
      { find: /^@eventsourced\/core$/, replacement: src("./packages/core/src/index.ts") },
      {
        find: /^@eventsourced\/evtlog-postgres\/embedded$/,
        replacement: src("./packages/evtlog-postgres/src/embedded/index.ts"),
      },
      {
        find: /^@eventsourced\/evtlog-postgres\/internal$/,
        replacement: src("./packages/evtlog-postgres/src/internal.ts"),
      },
      {
        find: /^@eventsourced\/evtlog-postgres$/,
        replacement: src("./packages/evtlog-postgres/src/index.ts"),
      },
      {
        find: /^@eventsourced\/evtlog-nats\/internal$/,
        replacement: src("./packages/evtlog-nats/src/internal.ts"),
      },
      { find: /^@eventsourced\/evtlog-nats$/, replacement: src("./packages/evtlog-nats/src/index.ts") },
      {
        find: /^@eventsourced\/example-counter$/,
        replacement: src("./examples/counter/src/index.ts"),
      },
      {
        find: /^@eventsourced\/snapshots\/postgres$/,
        replacement: src("./packages/snapshots/src/postgres/index.ts"),
      },
      {
        find: /^@eventsourced\/snapshots\/nats$/,
        replacement: src("./packages/snapshots/src/nats/index.ts"),
      },
      {
        find: /^@eventsourced\/leases\/testing\/vitest$/,
        replacement: src("./packages/leases/src/testing/vitest/index.ts"),
      },
      {
        find: /^@eventsourced\/leases\/testing$/,
        replacement: src("./packages/leases/src/testing/index.ts"),
      },
      {
        find: /^@eventsourced\/leases\/postgres$/,
        replacement: src("./packages/leases/src/postgres/index.ts"),
      },
      { find: /^@eventsourced\/leases\/nats$/, replacement: src("./packages/leases/src/nats/index.ts") },
      { find: /^@eventsourced\/leases$/, replacement: src("./packages/leases/src/index.ts") },
      {
        find: /^@eventsourced\/projections\/(postgres|nats)$/,
        replacement: src("./packages/projections/src/$1/index.ts"),
      },
      { find: /^@eventsourced\/projections\/rxjs$/, replacement: src("./packages/projections/src/rxjs.ts") },
      {
        find: /^@eventsourced\/projections\/testing\/vitest$/,
        replacement: src("./packages/projections/src/testing/vitest/index.ts"),
      },
      {
        find: /^@eventsourced\/projections\/testing$/,
        replacement: src("./packages/projections/src/testing/index.ts"),
      },
      { find: /^@eventsourced\/projections$/, replacement: src("./packages/projections/src/index.ts") },
      { find: /^@eventsourced\/opentelemetry$/, replacement: src("./packages/opentelemetry/src/index.ts") },
      { find: /^@eventsourced\/cli\/config$/, replacement: src("./packages/cli/src/config/index.ts") },
      { find: /^@eventsourced\/cli$/, replacement: src("./packages/cli/src/index.ts") },
      {
        find: /^@eventsourced\/cluster\/postgres$/,
        replacement: src("./packages/cluster/src/postgres/index.ts"),
      },
      { find: /^@eventsourced\/cluster$/, replacement: src("./packages/cluster/src/index.ts") },
    ],
  },
  test: {
    include: [
      "packages/*/test/**/*.test.ts",
      "test/**/*.test.ts",
      "examples/*/test/**/*.test.ts",
      "bench/test/**/*.test.ts",
    ],
    // The nemesis harness has its own config (vitest.nemesis.config.ts, `npm run test:nemesis`).
    exclude: ["**/node_modules/**", "test/nemesis/**", "**/*.nemesis.test.ts"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    reporters: ["default", "./test/plain-summary-reporter.ts"],
    pool: "forks",
    // Adapter suites each get their own schema/stream; two workers keep 2 cores busy without starving the servers.
    maxWorkers: 2,
    // Each worker process runs file after file with one module graph: re-importing the sources (pg, nats,
    // every package) per file cost about a third of the suite's CPU. Tests still run in forked processes,
    // and child-process tests are unaffected; what a file changes on `process` (listeners, env) it undoes.
    isolate: false,
  },
});
