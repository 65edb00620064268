import type { JetStreamManager, StoredMsg } from "@nats-io/jetstream";

/** The KV header that marks a delete or purge ("DEL", "PURGE"); a value has none (or "PUT"). */
const OPERATION_HEADER = "KV-Operation";

/**
 * The stored revisions of a KV key, read with direct gets (about 0.2 ms each on loopback) instead of the
 * ordered consumer `kv.history()` creates, which costs a consumer round trip per call and under load took
 * seconds. Walks the key's subject from the stream's start with "next message on this subject at or after
 * sequence N", one get per kept revision.
 */
export class KeyRevisions {
  readonly #jsm: JetStreamManager;
  readonly #stream: string;
  readonly #subjectPrefix: string;

  constructor(jsm: JetStreamManager, stream: string, bucket: string) {
    this.#jsm = jsm;
    this.#stream = stream;
    this.#subjectPrefix = `$KV.${bucket}.`;
  }

  /** The values of `key` after its last delete or purge marker, oldest first; at most `limit` gets. */
  async values(key: string, limit: number): Promise<Uint8Array[]> {
    const subject = this.#subjectPrefix + key;
    const values: Uint8Array[] = [];
    let seq = 1;
    for (let gets = 0; gets < limit; gets++) {
      const msg: StoredMsg | null = await this.#jsm.direct.getMessage(this.#stream, {
        seq,
        next_by_subj: subject,
      });
      if (msg === null) break;
      const operation = msg.header?.get(OPERATION_HEADER);
      if (operation === "DEL" || operation === "PURGE") values.length = 0;
      else values.push(msg.data);
      seq = msg.seq + 1;
    }
    return values;
  }
}
