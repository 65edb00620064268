import { InvalidArgumentError, ReadError, validateTypeAndId } from "@eventsourced/core";
import type { JetStreamManager } from "@nats-io/jetstream";
import { reason } from "./connect-nats.js";
import type { Subjects } from "./subjects.js";

/** Options of {@link NatsEvtLog.entityIds}. */
export interface EntityIdsOptions {
  /** Only ids after this one (exclusive, in JavaScript string order), for paging. */
  readonly after?: string | undefined;
  /** At most this many ids; default 1,000. */
  readonly limit?: number | undefined;
}

/**
 * Ids of the entities of `type` that have messages in the stream, from the stream's per-subject counts
 * (stream info with a subject filter; nats.js fetches every page). The server lists every subject of the
 * type, so this is a scan of the type's subjects, not of its messages; sorted and paged here.
 */
export async function readEntityIds(
  jsm: JetStreamManager,
  stream: string,
  subjects: Subjects,
  type: string,
  options: EntityIdsOptions,
): Promise<string[]> {
  const filter = subjects.byType(type);
  const limit = options.limit ?? 1_000;
  if (!Number.isSafeInteger(limit) || limit < 1) {
    throw new InvalidArgumentError(`invalid limit ${limit}: an integer >= 1`);
  }
  if (options.after !== undefined) validateTypeAndId(type, options.after);
  let counts: Record<string, number>;
  try {
    const info = await jsm.streams.info(stream, { subjects_filter: filter });
    counts = info.state.subjects ?? {};
  } catch (err) {
    throw new ReadError(`cannot list the entities of type ${type}: ${reason(err)}`, { cause: err });
  }
  const ids: string[] = [];
  for (const subject of Object.keys(counts)) {
    try {
      ids.push(subjects.idOf(subject));
    } catch {
      // A foreign subject (not an encoded id): not an entity of ours.
    }
  }
  ids.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const after = options.after;
  const start = after === undefined ? 0 : ids.findIndex((id) => id > after);
  return start < 0 ? [] : ids.slice(start, start + limit);
}
