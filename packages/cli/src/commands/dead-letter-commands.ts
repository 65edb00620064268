import { AdminCommandError } from "../cli-errors.js";
import { type Command, decoderOf, integerArg, requireYes, table } from "../command.js";
import { decodeEvt, toJsonSafe } from "../decode-bytes.js";
import { namedProjection } from "./projection-commands.js";

/** `dead-letters list|redrive|delete <projection>`. */
export const deadLetterCommands: readonly Command[] = [
  {
    words: ["dead-letters", "list"],
    params: "<projection>",
    flags: "[--binarizer <module>[#export]]",
    summary: "the events a projection gave up on, with the error and the event decoded",
    async run(ctx) {
      const decoder = await decoderOf(ctx);
      const { store, row } = await namedProjection(ctx);
      const letters = (await store.deadLetters(row.name)).map((l) => {
        const decoded = decodeEvt(l.bytes, l.contentType, decoder);
        return {
          position: l.position,
          type: l.type,
          id: l.id,
          seqNo: l.seqNo,
          recordedAt: l.recordedAt,
          attempts: l.attempts,
          failedAt: l.failedAt,
          error: l.error,
          encoding: decoded.encoding,
          evt: decoded.value,
        };
      });
      return {
        json: toJsonSafe({ projection: row.name, deadLetters: letters }),
        text:
          letters.length === 0
            ? [`no dead letters for ${row.name}`]
            : table(
                ["POSITION", "ENTITY", "SEQNO", "ATTEMPTS", "ERROR"],
                letters.map((l) => [
                  String(l.position),
                  `${l.type}/${l.id}`,
                  String(l.seqNo),
                  String(l.attempts),
                  l.error.replace(/\s*\n\s*/g, " "),
                ]),
              ),
      };
    },
  },
  {
    words: ["dead-letters", "delete"],
    params: "<projection> <position>",
    flags: "--yes",
    summary: "drops a dead letter without applying it",
    async run(ctx) {
      const position = integerArg("<position>", ctx.args[1], 0) ?? 0;
      requireYes(ctx, "dead-letters delete");
      const { store, row } = await namedProjection(ctx);
      if (!(await store.deleteDeadLetter(row.name, position))) {
        throw new AdminCommandError(`${row.name} has no dead letter at position ${position}`);
      }
      return {
        json: { projection: row.name, position, deleted: true },
        text: [`${row.name}: dead letter at position ${position} deleted`],
      };
    },
  },
  {
    words: ["dead-letters", "redrive"],
    params: "<projection> <position>",
    summary: "refused here: re-driving runs the projection's handler, which only the application has",
    async run(ctx) {
      const position = integerArg("<position>", ctx.args[1], 0) ?? 0;
      const { store, row } = await namedProjection(ctx);
      const exists = (await store.deadLetters(row.name)).some((l) => l.position === position);
      throw new AdminCommandError(
        exists
          ? `re-driving runs ${row.name}'s handler, which only the application has: call \`projection.redrive(${position})\` in the process that runs it (with exactlyOnce, atomically with the dead letter's removal); nothing was changed`
          : `${row.name} has no dead letter at position ${position}`,
      );
    },
  },
];
