import type { SchemaComponent } from "../backends/admin-backend.js";
import { type Command, type CommandOutput, table } from "../command.js";

function output(where: string, components: readonly SchemaComponent[]): CommandOutput {
  const upToDate = components.every((c) => c.state === "up-to-date" || c.state === "newer");
  return {
    // A deployment script can gate on it (`eventsourced schema status || eventsourced schema migrate`).
    exitCode: upToDate ? 0 : 1,
    json: { where, upToDate, components },
    text: [
      where,
      ...table(
        ["COMPONENT", "VERSION", "EXPECTED", "STATE"],
        components.map((c) => [c.component, String(c.version), String(c.expected), c.state]),
      ),
      upToDate ? "up to date" : "not up to date: run `eventsourced schema migrate`",
    ],
  };
}

/** `schema status` and `schema migrate`. */
export const schemaCommands: readonly Command[] = [
  {
    words: ["schema", "status"],
    params: "",
    summary:
      "versions of the tables (PostgreSQL) or stream and buckets (NATS) against this CLI's; exit 1 when not up to date",
    async run(ctx) {
      const backend = await ctx.backend();
      return output(backend.where, await backend.schemaStatus());
    },
  },
  {
    words: ["schema", "migrate"],
    params: "",
    summary: "creates or upgrades them (idempotent; safe beside running applications)",
    async run(ctx) {
      const backend = await ctx.backend();
      return output(backend.where, await backend.migrate());
    },
  },
];
