/**
 * `npm run bench [-- --quick]`: runs every suite of {@link SUITES} as a child process in sequence, then the
 * counter example's workload on PostgreSQL and on NATS, keeps going when one fails, and renders
 * `bench/RESULTS.md` and `bench/results/throughput.svg` from the results files this run wrote.
 * Exits non-zero when any suite failed, after rendering the page that says which.
 */
import path from "node:path";
import { quick } from "./measure.js";
import { machineFacts, RESULTS_DIR } from "./results.js";
import { runBenchmarks } from "./run-benchmarks.js";
import { incompleteSuites } from "./run-report.js";
import { DATABASE_URL, NATS_URL, natsVersion, postgresServerVersion } from "./service-versions.js";
import { COUNTER_WORKLOAD, SUITES } from "./suites.js";
import { writeReport } from "./write-report.js";

const benchDir = path.resolve(RESULTS_DIR, "..");
const repoRoot = path.resolve(benchDir, "..");

async function main(): Promise<number> {
  console.log(`\n=== eventsourced benchmarks (${quick ? "quick" : "full"}), ${new Date().toISOString()} ===`);
  const [postgres, nats] = await Promise.all([postgresServerVersion(DATABASE_URL), natsVersion(NATS_URL)]);
  const machine = machineFacts({ ...(postgres ? { postgres } : {}), ...(nats ? { nats } : {}) });
  // Connection URLs may carry a password; progress lines must not.
  const redacted = DATABASE_URL.replace(/\/\/([^:/@]+):[^@/]*@/, "//$1:***@");
  console.log(
    `machine: ${machine.cores} cores (${machine.cpuModel}), ${machine.memoryGiB} GiB, Node ${machine.node}, ` +
      `PostgreSQL ${postgres ?? `unreachable at ${redacted}`}, NATS ${nats ?? `unreachable at ${NATS_URL}`}`,
  );
  const counter = { logs: ["postgres", "nats"], ...COUNTER_WORKLOAD[quick ? "quick" : "full"] } as const;
  const report = await runBenchmarks({ quick, benchDir, machine, suites: SUITES, counter });
  const written = writeReport(report, benchDir);
  console.log(`\nwrote ${written.map((file) => path.relative(repoRoot, file)).join(", ")}`);
  const incomplete = incompleteSuites(report).map((s) => s.suite);
  console.log(
    incomplete.length === 0
      ? "\n=== all suites completed; see bench/RESULTS.md ==="
      : `\n=== ${incomplete.length} suite(s) did not complete cleanly: ${incomplete.join(", ")} (see bench/RESULTS.md) ===`,
  );
  return incomplete.length === 0 ? 0 : 1;
}

process.exitCode = await main().catch((error: unknown) => {
  console.error("bench: the run itself failed:", error);
  return 1;
});
