import { PersistError, SeqNoConflictError } from "@eventsourced/core";
import { ApiCode, classifyPublishFailure, isWrongLastSequence } from "@eventsourced/evtlog-nats/internal";
import { JetStreamApiCodes, JetStreamApiError, type JetStreamClient, type PubAck } from "@nats-io/jetstream";
import {
  ClosedConnectionError,
  DrainingConnectionError,
  headers,
  RequestError,
  TimeoutError,
} from "@nats-io/transport-node";
import { describe, expect, it } from "vitest";
import { PublisherClosedError, PublishLostError } from "../src/publish-mux.js";
import { publishPersist } from "../src/publish-persist.js";

// nats-server 2.9 answers a wrong expected sequence with 10071 only; newer and clustered servers also use
// 10164, and 2.11 adds codes for a publish still in process. Those answers are built here as nats.js
// builds them from the server's reply.

const apiError = (code: number, description: string) =>
  new JetStreamApiError({
    code: code === 10158 ? 409 : code === 10163 ? 503 : 400,
    err_code: code,
    description,
  });

/** A client whose publish fails with `failures` in turn, then acknowledges. */
function fakeJs(failures: unknown[]): { js: JetStreamClient; attempts: () => number } {
  let attempts = 0;
  const js = {
    publish: async (): Promise<PubAck> => {
      const failure = failures[attempts++];
      if (failure !== undefined) throw failure;
      return { stream: "s", seq: 7, duplicate: false, domain: "" } as PubAck;
    },
  } as unknown as JetStreamClient;
  return { js, attempts: () => attempts };
}

const message = () => ({
  type: "t",
  id: "x",
  subject: "evts.t.x",
  body: new Uint8Array([1]),
  headers: headers(),
  expectedLastSeqNo: 3,
  expectedStreamSeq: 42,
});
const options = { timeoutMs: 100, attempts: 3, retryDelayMs: 1 };

describe("JetStream API codes", () => {
  it("come from nats.js where it has them", () => {
    expect(ApiCode.WrongLastSequence).toBe(JetStreamApiCodes.StreamWrongLastSequence);
    expect(ApiCode.WrongLastSequenceUnknown).toBe(JetStreamApiCodes.StreamWrongLastSequenceUnknown);
    expect(ApiCode.StreamNotFound).toBe(JetStreamApiCodes.StreamNotFound);
  });

  it("every code meaning wrong last sequence is a conflict, and nothing else is", () => {
    expect(isWrongLastSequence(apiError(10071, "wrong last sequence: 5"))).toBe(true);
    expect(isWrongLastSequence(apiError(10164, "wrong last sequence"))).toBe(true);
    expect(isWrongLastSequence(apiError(10070, "wrong last msg ID: x"))).toBe(false);
    expect(isWrongLastSequence(new Error("wrong last sequence"))).toBe(false);
  });
});

describe("a failed publish", () => {
  it.each([
    ["10071", apiError(10071, "wrong last sequence: 5")],
    ["10164", apiError(10164, "wrong last sequence")],
  ])("is a SeqNoConflictError when the stream answers %s", async (_, failure) => {
    const err = await publishPersist(fakeJs([failure]).js, message(), options).catch((e) => e);
    expect(err).toBeInstanceOf(SeqNoConflictError);
  });

  it.each([
    ["the connection is closed", new ClosedConnectionError()],
    ["the connection is draining", new DrainingConnectionError()],
  ])("is a PersistError with a known outcome when %s (nothing is sent)", async (_, failure) => {
    expect(classifyPublishFailure(failure)).toBe("notSent");
    const err = await publishPersist(fakeJs([failure]).js, message(), options).catch((e) => e);
    expect(err).toBeInstanceOf(PersistError);
    expect(err.outcomeUnknown).toBe(false);
  });

  it("is a PersistError with an unknown outcome when the connection closes under the request", async () => {
    const err = await publishPersist(
      fakeJs([new RequestError("connection closed")]).js,
      message(),
      options,
    ).catch((e) => e);
    expect(err).toBeInstanceOf(PersistError);
    expect(err.outcomeUnknown).toBe(true);
  });

  it("is retried while an earlier attempt is still in process or the check is not ready, then succeeds", async () => {
    const fake = fakeJs([
      new TimeoutError(),
      apiError(10158, "duplicate message id is in process"),
      apiError(10163, "expected last sequence per subject temporarily unavailable"),
    ]);
    const ack = await publishPersist(fake.js, message(), { ...options, attempts: 5 });
    expect(ack.seq).toBe(7);
    expect(fake.attempts()).toBe(4);
  });

  it("keeps an unknown outcome when the connection closes between retries of an unanswered attempt", async () => {
    const err = await publishPersist(
      fakeJs([new TimeoutError(), new ClosedConnectionError()]).js,
      message(),
      options,
    ).catch((e) => e);
    expect(err).toBeInstanceOf(PersistError);
    expect(err.outcomeUnknown).toBe(true);
  });

  it("retries a publish lost with its connection, and keeps the outcome unknown if nothing answers after", async () => {
    const fake = fakeJs([new PublishLostError()]);
    const ack = await publishPersist(fake.js, message(), options);
    expect(ack.seq).toBe(7);
    expect(fake.attempts()).toBe(2);
    const err = await publishPersist(
      fakeJs([new PublishLostError(), new ClosedConnectionError()]).js,
      message(),
      options,
    ).catch((e) => e);
    expect(err).toBeInstanceOf(PersistError);
    expect(err.outcomeUnknown).toBe(true);
  });

  it("a publish refused because its log closed was not sent: known unless an earlier attempt may have been stored", async () => {
    const known = await publishPersist(fakeJs([new PublisherClosedError()]).js, message(), options).catch(
      (e) => e,
    );
    expect(known).toBeInstanceOf(PersistError);
    expect(known.outcomeUnknown).toBe(false);
    expect(known.message).toMatch(/the event log is closed; this attempt was not sent/);
    const unknown = await publishPersist(
      fakeJs([new TimeoutError(), new PublisherClosedError()]).js,
      message(),
      options,
    ).catch((e) => e);
    expect(unknown.outcomeUnknown).toBe(true);
  });

  it("a wrong last sequence after an unanswered attempt: ours if the next message carries our id, else a conflict", async () => {
    /** Times out, then refuses the expected sequence; remembers the message id of the attempts. */
    const timedOutThenRefused = () => {
      const fake = { msgID: "", js: undefined as unknown as JetStreamClient };
      let attempt = 0;
      fake.js = {
        publish: async (_subject: string, _body: Uint8Array, o: { msgID: string }) => {
          fake.msgID = o.msgID;
          throw attempt++ === 0 ? new TimeoutError() : apiError(10071, "wrong last sequence: 43");
        },
      } as unknown as JetStreamClient;
      return fake;
    };
    const nextCarrying = (msgID: () => string) => ({
      nextOn: async (subject: string, fromSeq: number) => {
        expect([subject, fromSeq]).toEqual(["evts.t.x", 43]);
        const header = headers();
        header.set("Nats-Msg-Id", msgID());
        return { seq: 43, header };
      },
    });
    // Ours: the timed-out attempt was stored, and the retry came past the duplicate window.
    const mine = timedOutThenRefused();
    const ours = await publishPersist(mine.js, message(), {
      ...options,
      messages: nextCarrying(() => mine.msgID),
    });
    expect(ours).toEqual({ seq: 43, duplicate: true });
    // Another writer's.
    const theirs = await publishPersist(timedOutThenRefused().js, message(), {
      ...options,
      messages: nextCarrying(() => "someone-else"),
    }).catch((e) => e);
    expect(theirs).toBeInstanceOf(SeqNoConflictError);
    // Unreadable: may be stored.
    const unread = await publishPersist(timedOutThenRefused().js, message(), {
      ...options,
      messages: { nextOn: () => Promise.reject(new Error("no direct get")) },
    }).catch((e) => e);
    expect(unread).toBeInstanceOf(PersistError);
    expect(unread.outcomeUnknown).toBe(true);
    // No reader (the epoch marker's writer reads the subject again itself): a conflict, as before.
    const noReader = await publishPersist(timedOutThenRefused().js, message(), options).catch((e) => e);
    expect(noReader).toBeInstanceOf(SeqNoConflictError);
  });
});
