import type { ProjectionRow } from "@eventsourced/projections";
import type { ListingProjectionStore } from "../backends/admin-backend.js";
import { AdminCommandError } from "../cli-errors.js";
import { type Command, type CommandContext, integerArg, requireYes, table } from "../command.js";
import { toJsonSafe } from "../decode-bytes.js";
import { requestAndWait } from "./operator-request.js";
import { showMs, storedLag } from "./projection-lag.js";

/** The store and the named projection's row; an `AdminCommandError` when there is no such projection. */
export async function namedProjection(
  ctx: CommandContext,
): Promise<{ store: ListingProjectionStore; row: ProjectionRow }> {
  const [name = ""] = ctx.args;
  const store = await (await ctx.backend()).projectionStore();
  const row = await store.load(name);
  if (row === undefined) {
    throw new AdminCommandError(
      `no projection named ${JSON.stringify(name)} (\`eventsourced projections list\` shows them)`,
    );
  }
  return { store, row };
}

function rowJson(row: ProjectionRow): unknown {
  return toJsonSafe(row);
}

async function setStatus(ctx: CommandContext, status: "paused" | "running") {
  const { store, row } = await namedProjection(ctx);
  await store.setStatus(row.name, status);
  const verb = status === "paused" ? "paused" : "resumed";
  return {
    json: { name: row.name, previous: row.status, status },
    text: [
      `${row.name}: ${verb} (was ${row.status}); running instances follow within their status poll (default 1 s)`,
    ],
  };
}

/**
 * Moving a checkpoint under a running instance would fence it (it stops at its next save, for good): the
 * projection must be paused (or failed) first; a paused instance resumes from the new checkpoint.
 */
async function moveCheckpoint(ctx: CommandContext, position: number, what: string) {
  requireYes(ctx, what);
  const { store, row } = await namedProjection(ctx);
  if (row.status === "running") {
    throw new AdminCommandError(
      `${row.name} is running: pause it first (\`eventsourced projections pause ${row.name}\`), then ${what.split(" ")[1]} and resume; nothing was changed`,
    );
  }
  if (position > 0) {
    // A checkpoint beyond the head would silently skip the events written up to it later.
    const head = (await (await (await ctx.backend()).evtLog()).headOfType(row.type))?.position ?? 0;
    if (position > head) {
      throw new AdminCommandError(
        `${row.name}: position ${position} is beyond the head of type ${row.type} (${head}); events written up to it later would be skipped; nothing was changed`,
      );
    }
  }
  await store.reset(row.name, position);
  return {
    json: { name: row.name, previousPosition: row.position, position, status: row.status },
    text: [
      `${row.name}: checkpoint moved from ${row.position} to ${position}, dead letters after it dropped; still ${row.status}: \`eventsourced projections resume ${row.name}\` replays from there`,
    ],
  };
}

/** `projections list|status|pause|resume|reset|rebuild` and `lag`. */
export const projectionCommands: readonly Command[] = [
  {
    words: ["projections", "list"],
    params: "",
    summary: "every projection's checkpoint, status and lease epoch",
    async run(ctx) {
      const rows = await (await (await ctx.backend()).projectionStore()).list();
      return {
        json: { projections: rows.map(rowJson) },
        text:
          rows.length === 0
            ? ["no projections"]
            : table(
                ["NAME", "TYPE", "STATUS", "POSITION", "EPOCH", "ERROR"],
                rows.map((r) => [
                  r.name,
                  r.type,
                  r.status,
                  String(r.position),
                  String(r.epoch),
                  r.error ?? "",
                ]),
              ),
      };
    },
  },
  {
    words: ["projections", "status"],
    params: "<name>",
    summary: "one projection: checkpoint, status, lag behind the log, dead letters",
    async run(ctx) {
      const { store, row } = await namedProjection(ctx);
      const log = await (await ctx.backend()).evtLog();
      const lag = storedLag(row, await log.headOfType(row.type));
      const deadLetters = (await store.deadLetters(row.name)).length;
      return {
        json: { ...(rowJson(row) as object), lag, deadLetters },
        text: [
          `${row.name} (type ${row.type}): ${row.status}${row.error === undefined ? "" : ` (${row.error})`}`,
          `checkpoint ${row.position}, head ${lag.headPosition}, lag ${lag.events} positions, ${showMs(lag.ms)}`,
          `lease epoch ${row.epoch}, ${deadLetters} dead letter${deadLetters === 1 ? "" : "s"}`,
          ...(row.requests ?? []).map(
            (r) =>
              `pending request ${r.id}: ${r.kind}${r.kind === "redrive" ? ` ${r.position}` : ""} (since ${r.requestedAt.toISOString()})`,
          ),
        ],
      };
    },
  },
  {
    words: ["projections", "pause"],
    params: "<name>",
    summary: "persisted pause: every instance stops at its next batch boundary and stays paused",
    run: (ctx) => setStatus(ctx, "paused"),
  },
  {
    words: ["projections", "resume"],
    params: "<name>",
    summary: "running again (also retries a failed one)",
    run: (ctx) => setStatus(ctx, "running"),
  },
  {
    words: ["projections", "reset"],
    params: "<name> <position>",
    flags: "--yes",
    summary: "moves a paused projection's checkpoint (replay from there on resume)",
    run(ctx) {
      const position = integerArg("<position>", ctx.args[1], 0) ?? 0;
      return moveCheckpoint(ctx, position, "projections reset");
    },
  },
  {
    words: ["projections", "rebuild"],
    params: "<name>",
    flags: "--yes [--wait <seconds>]",
    summary:
      "asks the running instance to rebuild (its handler's reset, checkpoint 0, replay) and waits for it",
    async run(ctx) {
      requireYes(ctx, "projections rebuild");
      const { store, row } = await namedProjection(ctx);
      const { request, performed } = await requestAndWait(ctx, store, row.name, { kind: "rebuild" });
      return {
        json: { name: row.name, request: request.id, performed },
        text: [
          performed
            ? `${row.name}: rebuilt by the running instance (read model reset, checkpoint 0); it replays the log while running`
            : `${row.name}: rebuild requested (${request.id}); the running instance performs it at its next status poll`,
        ],
      };
    },
  },
  {
    words: ["lag"],
    params: "",
    summary: "every projection's lag behind the log's head for its type",
    async run(ctx) {
      const backend = await ctx.backend();
      const rows = await (await backend.projectionStore()).list();
      const log = rows.length === 0 ? undefined : await backend.evtLog();
      const lags = [];
      for (const row of rows) {
        const lag = storedLag(row, await log?.headOfType(row.type));
        lags.push({ name: row.name, type: row.type, status: row.status, ...lag });
      }
      return {
        json: { projections: lags },
        text:
          lags.length === 0
            ? ["no projections"]
            : table(
                ["NAME", "TYPE", "STATUS", "POSITION", "HEAD", "LAG", "LAG TIME"],
                lags.map((l) => [
                  l.name,
                  l.type,
                  l.status,
                  String(l.position),
                  String(l.headPosition),
                  String(l.events),
                  showMs(l.ms),
                ]),
              ),
      };
    },
  },
];
