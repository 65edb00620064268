import { JetStreamApiCodes } from "@nats-io/jetstream";

/** A revision the KV client will send as an expected sequence (it skips 0 and rejects negatives). */
export function isRevision(revision: number): boolean {
  return Number.isSafeInteger(revision) && revision > 0;
}

/** The write's expected last sequence did not match: the key is held by someone else, or gone. */
export function isWrongLastSequence(err: unknown): boolean {
  const code =
    err instanceof Error && err.name === "JetStreamApiError" && "code" in err ? err.code : undefined;
  return (
    code === JetStreamApiCodes.StreamWrongLastSequence ||
    code === JetStreamApiCodes.StreamWrongLastSequenceUnknown
  );
}
