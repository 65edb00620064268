import { AdminCommandError } from "../cli-errors.js";
import { type Command, decoderOf, integerArg, requireYes, table } from "../command.js";
import { decodeState, toJsonSafe } from "../decode-bytes.js";

/** `snapshots list|show|delete <type> <id>`. */
export const snapshotCommands: readonly Command[] = [
  {
    words: ["snapshots", "list"],
    params: "<type> <id>",
    summary: "the snapshots kept for an entity, newest first",
    async run(ctx) {
      const [type = "", id = ""] = ctx.args;
      const store = await (await ctx.backend()).snapshotStore();
      const snapshots = (await store.loadAll(type, id)).map((s) => ({
        seqNo: s.seqNo,
        version: s.version,
        bytes: s.bytes.byteLength,
      }));
      return {
        json: toJsonSafe({ type, id, snapshots }),
        text:
          snapshots.length === 0
            ? [`no snapshots of ${type}/${JSON.stringify(id)}`]
            : table(
                ["SEQNO", "VERSION", "BYTES"],
                snapshots.map((s) => [String(s.seqNo), s.version ?? "-", String(s.bytes)]),
              ),
      };
    },
  },
  {
    words: ["snapshots", "show"],
    params: "<type> <id>",
    flags: "[--seq-no <n>] [--binarizer <module>[#export]]",
    summary: "one snapshot's state (the newest, or the one at --seq-no), decoded",
    async run(ctx) {
      const [type = "", id = ""] = ctx.args;
      const seqNo = integerArg("--seq-no", ctx.options.seqNo, 0);
      const decoder = await decoderOf(ctx);
      const store = await (await ctx.backend()).snapshotStore();
      const all = await store.loadAll(type, id);
      const snapshot = seqNo === undefined ? all[0] : all.find((s) => s.seqNo === seqNo);
      if (snapshot === undefined) {
        const at = seqNo === undefined ? "" : ` at seqNo ${seqNo}`;
        throw new AdminCommandError(`no snapshot of ${type}/${JSON.stringify(id)}${at}`);
      }
      const decoded = decodeState(snapshot.bytes, snapshot.version, decoder);
      const state = toJsonSafe(decoded.value);
      return {
        json: {
          type,
          id,
          seqNo: snapshot.seqNo,
          version: snapshot.version,
          encoding: decoded.encoding,
          state,
        },
        text: [
          `${type}/${JSON.stringify(id)} at seqNo ${snapshot.seqNo}${snapshot.version === undefined ? "" : `, version ${snapshot.version}`} (${decoded.encoding})`,
          JSON.stringify(state, null, 2),
        ],
      };
    },
  },
  {
    words: ["snapshots", "delete"],
    params: "<type> <id>",
    flags: "--yes",
    summary: "deletes every snapshot of an entity (it recovers from its events)",
    async run(ctx) {
      const [type = "", id = ""] = ctx.args;
      requireYes(ctx, "snapshots delete");
      const store = await (await ctx.backend()).snapshotStore();
      const deleted = (await store.loadAll(type, id)).length;
      await store.deleteAll(type, id);
      return {
        json: { type, id, deleted },
        text: [`deleted ${deleted} snapshot${deleted === 1 ? "" : "s"} of ${type}/${JSON.stringify(id)}`],
      };
    },
  },
];
