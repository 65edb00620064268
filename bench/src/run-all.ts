/**
 * `npm run bench [-- --quick]`: runs every benchmark suite as a child process in sequence (core, postgres,
 * nats, then the counter example's workload on PostgreSQL and on NATS), keeps going when one fails, and
 * renders `bench/RESULTS.md` and `bench/results/throughput.svg` from the results files this run wrote.
 * Exits non-zero when any suite failed, after rendering the page that says which.
 */
import path from "node:path";
import { fileURLToPath } from "node:url";
import { quick } from "./measure.js";
import { machineFacts } from "./results.js";
import { runBenchmarks } from "./run-benchmarks.js";
import { incompleteSuites } from "./run-report.js";
import {
  DEFAULT_DATABASE_URL,
  DEFAULT_NATS_URL,
  natsVersion,
  postgresServerVersion,
} from "./service-versions.js";
import { writeReport } from "./write-report.js";

/**
 * Time budgets per child process, in seconds. They are safety nets that stop a hung suite from holding up
 * the rest: each suite sizes its own workload to fit the run's overall bound (about 10 minutes full, about
 * 1 minute quick).
 */
const BUDGET_SECONDS = quick
  ? { core: 60, postgres: 120, nats: 120, counter: 90 }
  : { core: 180, postgres: 360, nats: 360, counter: 300 };

/** The counter workload: the Rust example's full run, or a reduced one in quick mode. */
const COUNTER_WORKLOAD = quick ? { entityCount: 20, evtCount: 500 } : { entityCount: 100, evtCount: 10_000 };

const benchDir = fileURLToPath(new URL("../", import.meta.url));
const repoRoot = path.resolve(benchDir, "..");
const resultsDir = path.join(benchDir, "results");
const postgresUrl = process.env.DATABASE_URL ?? DEFAULT_DATABASE_URL;
const natsUrl = process.env.NATS_URL ?? DEFAULT_NATS_URL;

async function main(): Promise<number> {
  console.log(`\n=== eventsourced benchmarks (${quick ? "quick" : "full"}), ${new Date().toISOString()} ===`);
  const [postgres, nats] = await Promise.all([postgresServerVersion(postgresUrl), natsVersion(natsUrl)]);
  const machine = machineFacts({ ...(postgres ? { postgres } : {}), ...(nats ? { nats } : {}) });
  console.log(
    `machine: ${machine.cores} cores (${machine.cpuModel}), ${machine.memoryGiB} GiB, Node ${machine.node}, ` +
      `PostgreSQL ${postgres ?? `unreachable at ${redact(postgresUrl)}`}, NATS ${nats ?? `unreachable at ${natsUrl}`}`,
  );

  const report = await runBenchmarks({
    quick,
    repoRoot,
    resultsDir,
    machine,
    suites: (["core", "postgres", "nats"] as const).map((name) => ({
      name,
      script: path.join(benchDir, "dist", `${name}.bench.js`),
      budgetSeconds: BUDGET_SECONDS[name],
    })),
    counter: {
      logs: ["postgres", "nats"],
      ...COUNTER_WORKLOAD,
      budgetSeconds: BUDGET_SECONDS.counter,
      postgresUrl,
      natsUrl,
    },
  });

  const written = writeReport(report, {
    resultsDir,
    page: path.join(benchDir, "RESULTS.md"),
    readme: path.join(benchDir, "README.md"),
    headlineIn: [path.join(benchDir, "README.md"), path.join(repoRoot, "README.md")],
  });
  console.log(`\nwrote ${written.map((file) => path.relative(repoRoot, file)).join(", ")}`);

  const incomplete = incompleteSuites(report);
  console.log(
    incomplete.length === 0
      ? "\n=== all suites completed; see bench/RESULTS.md ==="
      : `\n=== ${incomplete.length} suite(s) did not complete cleanly: ${incomplete.map((s) => s.suite).join(", ")} (see bench/RESULTS.md) ===`,
  );
  return incomplete.length === 0 ? 0 : 1;
}

/** Connection URLs may carry a password; progress lines must not. */
function redact(url: string): string {
  return url.replace(/\/\/([^:/@]+):[^@/]*@/, "//$1:***@");
}

process.exitCode = await main().catch((error: unknown) => {
  console.error("bench: the run itself failed:", error);
  return 1;
});
