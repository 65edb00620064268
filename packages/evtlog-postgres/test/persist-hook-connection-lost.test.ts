import { ErrorCode, isEventSourcedError, type PersistError, silentLogger } from "@eventsourced/core";
import { PostgresEvtLog } from "@eventsourced/evtlog-postgres";
import { afterAll, describe, expect, it } from "vitest";
import { DATABASE_URL, dropSchema, uniqueSchemaName } from "./pg-test-database.js";

const evt = { bytes: new TextEncoder().encode("e") };

async function failure(promise: Promise<unknown>): Promise<PersistError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!isEventSourcedError(error, ErrorCode.Persist))
    throw new Error(`expected PERSIST_FAILED, got ${error}`);
  return error as PersistError;
}

describe("PostgresEvtLog in-transaction hook: refused vs. connection lost", () => {
  const schema = uniqueSchemaName("hooklost");
  afterAll(() => dropSchema(schema));

  it("a connection that dies under the hook is reported as lost (outcome unknown), even when the hook wraps the error", async () => {
    let kill = false;
    const log = await PostgresEvtLog.create({
      connectionString: DATABASE_URL,
      schema,
      logger: silentLogger,
      inTransaction: async (client) => {
        if (!kill) return;
        try {
          await client.query("SELECT pg_terminate_backend(pg_backend_pid())");
        } catch (cause) {
          // A hook (e.g. an inline projection) that wraps the driver's error in its own.
          throw new Error("read model update failed", { cause });
        }
      },
    });
    try {
      await log.persist("t", "before", 0, [evt]);
      kill = true;
      const alone = await failure(log.persist("t", "alone", 0, [evt]));
      const batched = await Promise.all(
        ["b-1", "b-2", "b-3"].map((id) => failure(log.persist("t", id, 0, [evt]))),
      );
      for (const error of [alone, ...batched]) {
        expect(error.message).toMatch(/^the connection was lost while persisting t\//);
        expect(error.message).toContain("read model update failed");
        expect(error.message).not.toContain("refused");
        expect(error.outcomeUnknown).toBe(true);
      }
      kill = false;
      expect(await log.persist("t", "after", 0, [evt])).toMatchObject({ seqNo: 1 });
    } finally {
      await log.close();
    }
  });

  it("a hook that throws on a live connection still refuses the persist: nothing written, outcome known", async () => {
    const log = await PostgresEvtLog.create({
      connectionString: DATABASE_URL,
      schema,
      logger: silentLogger,
      setup: false,
      inTransaction: async (_client, persists) => {
        if (persists.some((p) => p.id === "refused")) throw new Error("no such thing");
      },
    });
    try {
      const error = await failure(log.persist("t", "refused", 0, [evt]));
      expect(error.message).toBe(
        `cannot persist t/"refused": the in-transaction hook refused it; nothing was written`,
      );
      expect(error.outcomeUnknown).toBe(false);
      expect(await log.lastSeqNo("t", "refused")).toBe(0);
      expect(await log.persist("t", "accepted", 0, [evt])).toMatchObject({ seqNo: 1 });
    } finally {
      await log.close();
    }
  });
});
