import { InvalidArgumentError, validateTypeAndId } from "@eventsourced/core";
import { encodeIdToken, MAX_ENCODED_ID_LENGTH } from "@eventsourced/evtlog-nats";

/**
 * The KV key of an entity's snapshot: `<type>.<encoded id>`, with the id encoded exactly as in the event
 * log's subjects (see `encodeIdToken` in `@eventsourced/evtlog-nats`), so a key reads like the entity's
 * subject and no id can address another entity's snapshot. Throws `InvalidArgumentError` when unusable.
 */
export function snapshotKey(type: string, id: string): string {
  validateTypeAndId(type, id);
  const token = encodeIdToken(id);
  if (token.length > MAX_ENCODED_ID_LENGTH) {
    throw new InvalidArgumentError(
      `entity id too long for a NATS KV key: ${token.length} encoded characters (at most ${MAX_ENCODED_ID_LENGTH})`,
    );
  }
  return `${type}.${token}`;
}
