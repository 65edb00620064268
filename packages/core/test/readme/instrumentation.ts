// "Instrumentation" in packages/core/README.md, verbatim between the region markers;
// ../health-check.test.ts runs it.
// #region instrumentation
import type { Instrumentation, Logger } from "@eventsourced/core";

/** Logs every command slower than `slowMs`, with its type and outcome (no OpenTelemetry needed). */
export function slowCommands(logger: Logger, slowMs: number): Instrumentation {
  return {
    commandStarted: (cmd) => ({
      ended: (end) => {
        if (end.durationMs < slowMs) return;
        logger.warn("slow command", {
          type: cmd.typeName,
          cmd: cmd.cmdType,
          outcome: end.outcome,
          ms: end.durationMs,
        });
      },
    }),
  };
}
// #endregion instrumentation
