import type { Command } from "../command.js";
import { clusterCommands } from "./cluster-commands.js";
import { deadLetterCommands } from "./dead-letter-commands.js";
import { entityCommands } from "./entity-commands.js";
import { projectionCommands } from "./projection-commands.js";
import { schemaCommands } from "./schema-commands.js";
import { snapshotCommands } from "./snapshot-commands.js";

/** Every command, in the order of the usage text. */
export const ALL_COMMANDS: readonly Command[] = [
  ...schemaCommands,
  ...entityCommands,
  ...snapshotCommands,
  ...projectionCommands,
  ...deadLetterCommands,
  ...clusterCommands,
];

/** The command whose words start `positionals`, and the arguments after them. */
export function findCommand(
  positionals: readonly string[],
): { command: Command; args: readonly string[] } | undefined {
  for (const command of ALL_COMMANDS) {
    if (command.words.every((word, i) => positionals[i] === word)) {
      return { command, args: positionals.slice(command.words.length) };
    }
  }
  return undefined;
}

/** The usage text: one line per command. */
export function usageLines(): string[] {
  const entries = ALL_COMMANDS.map((c) => {
    const syntax = [c.words.join(" "), c.params, c.flags ?? ""].filter((s) => s !== "").join(" ");
    return [syntax, c.summary] as const;
  });
  return [
    "usage: eventsourced <command> [options]",
    "",
    ...entries.flatMap(([syntax, summary]) => [`  ${syntax}`, `      ${summary}`]),
    "",
    "options for every command:",
    "  --url <url>        postgres://... or nats://... (else the config's evtLog section)",
    "  --config <dir>     directory of default.yaml (else CONFIG_DIR, else ./config if present)",
    "  --schema <name>    PostgreSQL schema (evtLog.postgres.schema)",
    "  --stream <name>    NATS stream (evtLog.nats.stream)",
    "  --json             one JSON document on stdout (errors: one on stderr)",
    "exit status: 0 done, 1 failed or refused (nothing changed), 2 bad command line or configuration",
  ];
}
