#!/usr/bin/env node
// The counter example's command line: `npm start` at the repository root runs this.
import { writeFileSync } from "node:fs";
import { ConfigurationError, ConnectionError } from "@eventsourced/core";
import { type CounterConfig, loadConfig } from "./config.js";
import type { HealthServer } from "./health-server.js";
import { ownershipLostIn } from "./ownership-lost.js";
import { createProgress } from "./progress.js";
import { reportLines, summaryJson } from "./report.js";
import type { RunLease } from "./run-lease.js";
import type { OpenedStores } from "./stores.js";
import { terminalLogger } from "./terminal-logger.js";
import { counterId } from "./workload.js";

/** Exit statuses: documented in README.md. */
const EXIT = { ok: 0, failed: 1, config: 2, interrupted: 130 } as const;

const out = (line: string): void => {
  process.stdout.write(`${line}\n`);
};
const err = (line: string): void => {
  process.stderr.write(`${line}\n`);
};

function describeWorkload(config: CounterConfig, where: string): string {
  const { entityCount, evtCount, binarizer, snapshotAfter } = config.counter;
  const snapshots = snapshotAfter > 0 ? `snapshots every ${snapshotAfter} events` : "no snapshots";
  return `counter: ${entityCount} counters x ${evtCount} commands on ${where}, ${binarizer}, ${snapshots}`;
}

/**
 * First Ctrl-C: stop sending and let everything drain and verify. Second: skip verification as well.
 * Third: exit without waiting.
 */
function installSignalHandlers(stop: AbortController, abort: AbortController): () => void {
  const onSignal = (signal: NodeJS.Signals): void => {
    if (!stop.signal.aborted) {
      err(
        `\n${signal}: stopping; commands in flight finish and are verified (press Ctrl-C again to skip that)`,
      );
      stop.abort();
    } else if (!abort.signal.aborted) {
      err(`\n${signal}: skipping verification; closing connections (press Ctrl-C again to exit at once)`);
      abort.abort();
    } else {
      // Something hangs (e.g. a connect to an unresponsive host): the user's word is final.
      process.exit(EXIT.interrupted);
    }
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  return () => {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  };
}

function oneLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.replace(/\s*\n\s*/g, " ");
}

/**
 * The line for a run whose first fenced write (NATS: the epoch marker of the first counter it reads;
 * PostgreSQL: its first persist) was refused while its lease still stood: a newer tenure outranks it, e.g.
 * markers written under a higher epoch before the NATS server's clock stepped back (ADR 0136).
 */
function refusedAtStart(refusal: Error): string {
  return (
    `counter: the store refused this run at its start (${oneLine(refusal)}): its counters were written ` +
    "under a newer run lease epoch than this run's (another process fencing them, or a server clock that " +
    "stepped back); if no other run uses this store, start over on a fresh one (another stream or schema)"
  );
}

async function main(): Promise<number> {
  let config: CounterConfig;
  try {
    config = loadConfig().config;
  } catch (error) {
    if (error instanceof ConfigurationError) {
      err(`counter: ${oneLine(error)}`);
      return EXIT.config;
    }
    throw error;
  }

  // Loaded only now: a configuration error is reported without loading any driver.
  const { describeStores, openStores } = await import("./stores.js");
  const { runCounters } = await import("./run.js");
  out(describeWorkload(config, describeStores(config)));
  const stop = new AbortController();
  const abort = new AbortController();
  const removeSignalHandlers = installSignalHandlers(stop, abort);
  let stores: OpenedStores;
  try {
    stores = await openStores(config, terminalLogger);
  } catch (error) {
    removeSignalHandlers();
    if (error instanceof ConnectionError || error instanceof ConfigurationError) {
      err(`counter: ${oneLine(error)}`);
      return error instanceof ConfigurationError ? EXIT.config : EXIT.failed;
    }
    throw error;
  }

  // Two runs on one store would change each other's counters: they take turns, and a run writes only while
  // its lease lasts (fenced writes: a run paused past its lease cannot change what the next run changes).
  let runLease: RunLease | undefined;
  const leaseLost = new AbortController();
  let runLog = stores.evtLog;
  if (stores.runLease !== undefined) {
    const { takeRunLease } = await import("./run-lease.js");
    try {
      runLease = await takeRunLease(stores.runLease.store, {
        signal: stop.signal,
        logger: terminalLogger,
        onWaiting: (holder) =>
          out(`waiting: another counter run holds this store (${holder}); runs on one store take turns`),
        onLost: () => leaseLost.abort(),
      });
      runLog = stores.runLease.fenced(runLease.tenure);
    } catch (error) {
      await stores.close();
      removeSignalHandlers();
      if (stop.signal.aborted) {
        err("counter: stopped while waiting for the other run");
        return EXIT.interrupted;
      }
      err(`counter: ${oneLine(error)}`);
      return EXIT.failed;
    }
  }

  const { startCounterTotals } = await import("./counter-totals.js");
  const totals =
    stores.pool === undefined
      ? undefined
      : await startCounterTotals({
          evtLog: stores.evtLog,
          pool: stores.pool,
          schema: config.evtLog.postgres.schema,
          binarizer: config.counter.binarizer,
          logger: terminalLogger,
        });
  let healthServer: HealthServer | undefined;
  try {
    if (config.health.port !== 0) {
      const { startHealthServer } = await import("./health-server.js");
      const projection = totals?.projection;
      healthServer = await startHealthServer(config.health.port, {
        evtLog: stores.evtLog,
        logName: config.evtLog.kind,
        projection,
      });
      out(`health: http://127.0.0.1:${healthServer.port}/health/ready`);
    }
    const summary = await runCounters({
      evtLog: runLog,
      snapshotStore: stores.snapshotStore,
      ...config.counter,
      stop: stop.signal,
      abort: abort.signal,
      leaseLost: leaseLost.signal,
      progress: createProgress({ mode: config.output.progress }),
      onRecovered: ({ seconds, total }) =>
        out(
          `start: recovered ${config.counter.entityCount} counters in ${seconds.toFixed(2)} s, their values sum to ${total}`,
        ),
      onWritten: () => totals?.markWritten(),
      logger: terminalLogger,
    });
    for (const line of reportLines(summary)) out(line);
    const verifiable = summary.error === undefined && !summary.interrupted && !summary.leaseLost;
    const ids = () => Array.from({ length: config.counter.entityCount }, (_, i) => counterId(i));
    const projection = await totals
      ?.finish(verifiable ? { ids: ids(), total: summary.endTotal } : undefined)
      .catch((error: unknown) => ({
        lines: [`projection: not checked (${oneLine(error)})`],
        verified: undefined,
      }));
    for (const line of projection?.lines ?? []) out(line);
    if (config.output.summaryFile !== "") {
      writeFileSync(
        config.output.summaryFile,
        `${JSON.stringify(summaryJson(stores.log, summary, projection?.verified), null, 2)}\n`,
      );
    }
    const refusal = ownershipLostIn(summary.error);
    if (refusal !== undefined && summary.commands === 0 && !leaseLost.signal.aborted) {
      err(refusedAtStart(refusal));
      return EXIT.failed;
    }
    if (summary.leaseLost || leaseLost.signal.aborted) {
      err(
        "counter: the run's lease on the store was lost (unreachable or paused for longer than its TTL): another run may have started, so writing stopped",
      );
      return EXIT.failed;
    }
    if (summary.error !== undefined || summary.verified === false || projection?.verified === false) {
      return EXIT.failed;
    }
    return summary.interrupted ? EXIT.interrupted : EXIT.ok;
  } catch (error) {
    if (abort.signal.aborted) {
      err("counter: stopped before recovery finished");
      return EXIT.interrupted;
    }
    const refusal = ownershipLostIn(error);
    if (refusal !== undefined && !leaseLost.signal.aborted) {
      err(refusedAtStart(refusal));
      return EXIT.failed;
    }
    err(`counter: ${oneLine(error)}`);
    return EXIT.failed;
  } finally {
    await healthServer?.close();
    // Closing what may be unreachable by now must not turn the run's outcome into an unexpected failure.
    await totals?.projection.stop().catch(() => {});
    await runLease?.release().catch(() => {});
    await stores.close().catch((error: unknown) => err(`counter: closing the stores: ${oneLine(error)}`));
    removeSignalHandlers();
  }
}

main().then(
  (code) => {
    process.exitCode = code;
    // Everything is closed by now; should a driver still hold a handle, do not hang the terminal.
    setTimeout(() => process.exit(code), 2_000).unref();
  },
  (error: unknown) => {
    err(
      `counter: unexpected failure: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
    );
    process.exit(EXIT.failed);
  },
);
