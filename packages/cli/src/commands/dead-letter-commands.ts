import { AdminCommandError } from "../cli-errors.js";
import { type Command, decoderOf, integerArg, requireYes, table } from "../command.js";
import { decodeEvt, toJsonSafe } from "../decode-bytes.js";
import { requestAndWait } from "./operator-request.js";
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
    flags: "[--wait <seconds>]",
    summary: "asks the running instance to apply a dead letter again with its handler, and waits for it",
    async run(ctx) {
      const position = integerArg("<position>", ctx.args[1], 0) ?? 0;
      const { store, row } = await namedProjection(ctx);
      const exists = async () => (await store.deadLetters(row.name)).some((l) => l.position === position);
      if (!(await exists()))
        throw new AdminCommandError(`${row.name} has no dead letter at position ${position}`);
      const { request, performed } = await requestAndWait(ctx, store, row.name, {
        kind: "redrive",
        position,
      });
      if (performed && (await exists())) {
        throw new AdminCommandError(
          `${row.name}: the handler failed again on the dead letter at position ${position}; it stays (the application's log has the error)`,
        );
      }
      return {
        json: { projection: row.name, position, request: request.id, performed },
        text: [
          performed
            ? `${row.name}: dead letter at position ${position} re-driven by the running instance and removed`
            : `${row.name}: re-drive of position ${position} requested (${request.id})`,
        ],
      };
    },
  },
];
