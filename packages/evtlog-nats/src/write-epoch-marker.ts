import { OwnershipLostError, PersistError, SeqNoConflictError } from "@eventsourced/core";
import { headers } from "@nats-io/transport-node";
import type { EntityMessage } from "./entity-messages.js";
import { Header } from "./envelope.js";
import { type NatsFence, setFenceHeaders } from "./epoch-marker.js";
import type { JetStreamPublisher } from "./publish-mux.js";
import { type PublishOptions, publishPersist } from "./publish-persist.js";

/** Where and how to write one entity's marker. */
export interface MarkerTarget {
  /**
   * The log's publish multiplexer: a marker whose connection is lost fails at once and is retried with the
   * same message id, as a persist is (ADR 0138, 0147).
   */
  readonly publisher: JetStreamPublisher;
  readonly type: string;
  readonly id: string;
  readonly subject: string;
  /** The entity's last message, read from the server (never a cache). */
  readonly lastMessage: () => Promise<EntityMessage | undefined>;
  readonly publish: PublishOptions;
}

/** The entity's head after its marker. */
export interface FencedHead {
  readonly lastSeqNo: number;
  readonly streamSeq: number;
}

/** Writes racing the marker (a previous owner's last in-flight persists) before it gives up. */
const MAX_RACES = 50;

/**
 * Appends an epoch marker to the entity's subject: a message without events carrying the entity's last
 * seqNo (`Es-Marker`) and the fence (`Es-Epoch`, `Es-Owner`), published expecting the subject's last
 * sequence. From then on a write prepared before the marker (a previous owner's late persist, which
 * expects an older subject sequence) is refused by the server. Does nothing when the entity's last message
 * already carries this epoch; rejects with `OwnershipLostError` when it carries a newer one (a later owner
 * has fenced the entity). A write racing the marker makes it re-read and retry.
 */
export async function writeEpochMarker(target: MarkerTarget, fence: NatsFence): Promise<FencedHead> {
  const { type, id, subject } = target;
  for (let race = 0; ; race++) {
    let last: EntityMessage | undefined;
    try {
      last = await target.lastMessage();
    } catch (err) {
      throw new PersistError(
        `cannot fence ${type}/${JSON.stringify(id)}: reading its last message failed; nothing was written`,
        false,
        { cause: err },
      );
    }
    const lastSeqNo = last?.lastSeqNo ?? 0;
    if (last?.epoch !== undefined && last.epoch > fence.epoch) {
      throw new OwnershipLostError(
        type,
        id,
        `epoch ${fence.epoch} is superseded: the entity was fenced under epoch ${last.epoch}; nothing was written`,
      );
    }
    if (last?.epoch === fence.epoch) return { lastSeqNo, streamSeq: last.streamSeq };
    const hdrs = headers();
    hdrs.set(Header.Marker, String(lastSeqNo));
    setFenceHeaders(hdrs, fence);
    try {
      const ack = await publishPersist(
        target.publisher,
        {
          type,
          id,
          subject,
          body: new Uint8Array(0),
          headers: hdrs,
          expectedLastSeqNo: lastSeqNo,
          expectedStreamSeq: last?.streamSeq ?? 0,
        },
        target.publish,
      );
      return { lastSeqNo, streamSeq: ack.seq };
    } catch (err) {
      if (!(err instanceof SeqNoConflictError) || race >= MAX_RACES) throw err;
      // Jittered, so a writer in a tight loop cannot win every round.
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 5));
    }
  }
}
