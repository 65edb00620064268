import type { AdminClusterStore } from "../backends/admin-backend.js";
import { AdminCommandError, CliUsageError } from "../cli-errors.js";
import { type Command, type CommandContext, requireYes, table } from "../command.js";

/** A cluster name, and a bucket prefix: what `CLUSTER_NAME_PATTERN` and `NatsClusterStore` accept. */
const CLUSTER_NAME = /^[A-Za-z0-9_-]{1,64}$/;

/** `cluster show|forget-shard-function <cluster>`: the cluster store's record and members. */
export const clusterCommands: readonly Command[] = [
  {
    words: ["cluster", "show"],
    params: "<cluster>",
    flags: "[--bucket-prefix <prefix>]",
    summary: "the cluster's recorded shard function and its live members, by entity type",
    async run(ctx) {
      const cluster = clusterArg(ctx);
      const store = await inspector(ctx);
      const recorded = await store.shardFunction(cluster);
      const members = await store.liveMembers(cluster);
      return {
        json: { cluster, shardFunction: recorded ?? null, members },
        text: [
          `cluster ${cluster} (${store.where})`,
          `shard function: ${describe(recorded)}`,
          ...(members.length === 0
            ? ["live members: none"]
            : [
                "live members:",
                ...table(
                  ["TYPE", "MEMBER"],
                  members.map((m) => [m.type, m.member]),
                ),
              ]),
        ],
      };
    },
  },
  {
    words: ["cluster", "forget-shard-function"],
    params: "<cluster>",
    flags: "--yes [--bucket-prefix <prefix>]",
    summary:
      "removes the recorded shard function, so that the next process records its own (to reshard, or to repair a malformed record); refused while any member is live",
    async run(ctx) {
      const cluster = clusterArg(ctx);
      requireYes(ctx, "cluster forget-shard-function");
      const store = await inspector(ctx);
      const members = await store.liveMembers(cluster);
      if (members.length > 0) throw stillRunning(cluster, members);
      const recorded = await store.shardFunction(cluster);
      const forgotten = await store.forgetShardFunction(cluster);
      return {
        json: { cluster, forgotten, shardFunction: recorded ?? null },
        text: [
          forgotten
            ? `forgot the shard function of cluster ${cluster} (it was ${describe(recorded)}); the next process to start records its own`
            : `cluster ${cluster} has no recorded shard function (${store.where}); nothing changed`,
        ],
      };
    },
  },
];

function clusterArg(ctx: CommandContext): string {
  const [cluster = ""] = ctx.args;
  if (!CLUSTER_NAME.test(cluster)) {
    throw new CliUsageError(
      `<cluster> must be 1 to 64 letters, digits, "_" or "-", got ${JSON.stringify(cluster)}`,
    );
  }
  return cluster;
}

async function inspector(ctx: CommandContext): Promise<AdminClusterStore> {
  const prefix = ctx.options.bucketPrefix;
  if (prefix !== undefined && !CLUSTER_NAME.test(prefix)) {
    throw new CliUsageError(
      `--bucket-prefix must be 1 to 64 letters, digits, "_" or "-", got ${JSON.stringify(prefix)}`,
    );
  }
  return (await ctx.backend()).clusterStore(prefix);
}

function describe(recorded: Awaited<ReturnType<AdminClusterStore["shardFunction"]>>): string {
  if (recorded === undefined) return "none recorded";
  const { config } = recorded;
  if (config === undefined) {
    return `malformed: ${JSON.stringify(recorded.value)?.slice(0, 200)}`;
  }
  return `${config.shardCount} shards hashed by ${config.hash}`;
}

function stillRunning(
  cluster: string,
  members: Awaited<ReturnType<AdminClusterStore["liveMembers"]>>,
): AdminCommandError {
  const listed = members
    .slice(0, 5)
    .map((m) => `${m.member} (${m.type})`)
    .join(", ");
  const more = members.length > 5 ? ` and ${members.length - 5} more` : "";
  return new AdminCommandError(
    `cluster ${cluster} has ${members.length} live member${members.length === 1 ? "" : "s"}: ${listed}${more}; ` +
      "stop every process of the cluster first (a stopped one leaves at once; a killed one when its heartbeat expires). Nothing was changed",
  );
}
