import { CliUsageError } from "../cli-errors.js";
import { type Command, decoderOf, integerArg, table } from "../command.js";
import { decodeEvt, toJsonSafe } from "../decode-bytes.js";

const DEFAULT_LIMIT = 1_000;

/** `entities list <type>` and `events <type> <id>`. */
export const entityCommands: readonly Command[] = [
  {
    words: ["entities", "list"],
    params: "<type>",
    flags: "[--after <id>] [--limit <n>]",
    summary: "ids of the entities of a type with their last seqNo, a page at a time",
    async run(ctx) {
      const [type = ""] = ctx.args;
      const limit = integerArg("--limit", ctx.options.limit, 1) ?? DEFAULT_LIMIT;
      const log = await (await ctx.backend()).evtLog();
      const ids = await log.entityIds(type, { after: ctx.options.after, limit });
      const entities: Array<{ id: string; lastSeqNo: number }> = [];
      for (const id of ids) entities.push({ id, lastSeqNo: await log.lastSeqNo(type, id) });
      const next = ids.length === limit ? ids.at(-1) : undefined;
      return {
        json: { type, entities, ...(next === undefined ? {} : { next }) },
        text: [
          ...table(
            ["ID", "LAST SEQNO"],
            entities.map((e) => [e.id, String(e.lastSeqNo)]),
          ),
          ...(next === undefined ? [] : [`more: --after ${JSON.stringify(next)}`]),
        ],
      };
    },
  },
  {
    words: ["events"],
    params: "<type> <id>",
    flags: "[--from <seqNo>] [--to <seqNo>] [--limit <n>] [--binarizer <module>[#export]]",
    summary: "an entity's events, decoded by the binarizer module given, else shown as JSON or hex",
    async run(ctx) {
      const [type = "", id = ""] = ctx.args;
      const from = integerArg("--from", ctx.options.from, 1) ?? 1;
      const to = integerArg("--to", ctx.options.to, 1);
      if (to !== undefined && to < from) throw new CliUsageError(`--to ${to} is below --from ${from}`);
      const limit = integerArg("--limit", ctx.options.limit, 1) ?? DEFAULT_LIMIT;
      const decoder = await decoderOf(ctx);
      const log = await (await ctx.backend()).evtLog();
      const evts: unknown[] = [];
      const lines: string[] = [];
      let next: number | undefined;
      for await (const record of log.evtsById(type, id, { from, ...(to === undefined ? {} : { to }) })) {
        if (evts.length === limit) {
          next = record.seqNo;
          break;
        }
        const decoded = decodeEvt(record.bytes, record.contentType, decoder);
        const evt = toJsonSafe(decoded.value);
        evts.push({
          seqNo: record.seqNo,
          position: record.position,
          recordedAt: record.recordedAt.toISOString(),
          contentType: record.contentType,
          metadata: toJsonSafe(record.metadata),
          encoding: decoded.encoding,
          evt,
        });
        lines.push(
          `${record.seqNo}  ${record.recordedAt.toISOString()}  ${decoded.encoding}  ${JSON.stringify(evt)}`,
        );
      }
      return {
        json: toJsonSafe({ type, id, evts, next }),
        text: [
          ...(lines.length === 0 ? [`no events of ${type}/${JSON.stringify(id)} from seqNo ${from}`] : []),
          ...lines,
          ...(next === undefined ? [] : [`more: --from ${next}`]),
        ],
      };
    },
  },
];
