import { silentLogger } from "@eventsourced/core";
import { PostgresEvtLog } from "@eventsourced/evtlog-postgres";
import { PostgresLeaseStore } from "@eventsourced/leases/postgres";
import { PostgresProjectionStore } from "@eventsourced/projections/postgres";
import type pg from "pg";
import { afterAll, afterEach, beforeAll, describe, it } from "vitest";
import {
  connectTestNats,
  deleteStream,
  NATS_URL,
  uniqueName,
} from "../../evtlog-nats/test/support/nats-test-env.js";
import { deposit, waitUntil } from "./support/fixtures.js";
import { DATABASE_URL, dropSchema, namedPool, uniqueSchemaName } from "./support/pg-env.js";
import { ProjectionProcess, requireBuild } from "./support/projection-process.js";

// Two instances of one exactly-once projection in two processes, with a LeaseKeeper on PostgreSQL leases.
// The frozen owner (SIGSTOP inside a batch's transaction) is replaced after the lease TTL; resumed, it reaches
// its compare-and-set and stops there: its batch rolls back. Takeover times are printed, never asserted.
// Runs the built dist: `npx tsc -b` first. The two lease backends run concurrently (own schema, bucket and
// processes each): most of the time goes to waiting out the TTL.

const FIXTURE = new URL("./fixtures/takeover-process.mjs", import.meta.url);
const TTL_MS = 2_000;
const POLL_MS = 200;
const BOUND_MS = 20_000;
const ms = (ns: bigint) => Number(ns) / 1e6;
const sleep = (t: number) => new Promise((resolve) => setTimeout(resolve, t));

describe.concurrent.each(["postgres", "nats"] as const)(
  `two projection processes on one %s lease (TTL ${TTL_MS} ms, poll ${POLL_MS} ms)`,
  (leases) => {
    const schema = uniqueSchemaName(`takeover_${leases}`);
    const bucket = uniqueName("takeover");
    const type = "taken";
    let pool: pg.Pool;
    let log: PostgresEvtLog;
    let processes: ProjectionProcess[] = [];

    beforeAll(async () => {
      requireBuild();
      pool = await namedPool(`takeover-${schema}`, 3);
      log = await PostgresEvtLog.create({ pool, schema, logger: silentLogger });
      // Set up once here, so the two processes start with `setup: false` at the same moment.
      await PostgresProjectionStore.create({ pool, schema });
      if (leases === "postgres")
        await (await PostgresLeaseStore.create({ pool, schema, ttlMs: TTL_MS })).close();
      else await (await connectTestNats()).close(); // fails with how to start NATS when it is down
      await pool.query(
        `CREATE TABLE "${schema}".writes (position bigint NOT NULL, instance text NOT NULL, written_at timestamptz NOT NULL)`,
      );
    });
    afterEach(async () => {
      await Promise.all(processes.map((p) => p.end()));
      processes = [];
    });
    afterAll(async () => {
      await log?.close();
      await pool?.end();
      await dropSchema(schema);
      if (leases === "nats") {
        const nc = await connectTestNats();
        await deleteStream(nc, `KV_${bucket}`);
        await nc.close();
      }
    });

    it("one runs and the other waits; the owner frozen past the TTL is replaced, and resumed it stops at its compare-and-set without writing", async ({
      expect,
    }) => {
      let writing = true;
      const writer = (async () => {
        for (let round = 0; writing; round++) {
          await Promise.all(
            Array.from({ length: 10 }, (_, e) => log.persist(type, `t${e}`, round, [deposit(1)])),
          );
          await sleep(20);
        }
      })();
      try {
        const env = (instance: string) => ({
          DATABASE_URL,
          SCHEMA: schema,
          TYPE: type,
          NAME: "taken",
          INSTANCE: instance,
          TTL_MS: String(TTL_MS),
          POLL_MS: String(POLL_MS),
          HOLD_MS: "100",
          LEASES: leases,
          NATS_URL,
          BUCKET: bucket,
        });
        const pair = ["a", "b"].map((i) => new ProjectionProcess(i, FIXTURE, env(i)));
        processes.push(...pair);
        await Promise.race(
          pair.map((p) => p.waitFor("acquisition", () => p.find("acquired").length > 0, BOUND_MS)),
        );
        const owner = pair.find((p) => p.find("acquired").length > 0)!;
        const other = pair.find((p) => p !== owner)!;
        await owner.waitFor("a few batches", () => owner.find("handling").length >= 3, BOUND_MS);
        await other.waitFor("standby", () => other.find("state").some((s) => s.rest === "standby"), BOUND_MS);
        expect(other.find("acquired")).toEqual([]);
        expect(other.find("handling")).toEqual([]);

        // Freeze the owner inside a batch's transaction (its handler holds it open 100 ms after writing).
        const seen = owner.find("handling").length;
        await owner.waitFor("a batch in progress", () => owner.find("handling").length > seen, BOUND_MS);
        await owner.signal("SIGSTOP");
        const stoppedAt = process.hrtime.bigint();
        const frozen = owner.find("handling").at(-1)!.rest.split(" ").map(Number) as [number, number];
        const takeoverBound = TTL_MS + POLL_MS;

        await other.waitFor("takeover", () => other.find("acquired").length > 0, BOUND_MS);
        const takeover = ms(other.find("acquired")[0]!.at - stoppedAt);
        await other.waitFor("a batch after the takeover", () => other.find("handling").length > 0, BOUND_MS);
        const remaining = 2 * TTL_MS - ms(process.hrtime.bigint() - stoppedAt);
        if (remaining > 0) await sleep(remaining);

        await owner.signal("SIGCONT");
        await owner.waitFor(
          "its stop at the compare-and-set",
          () => owner.find("state").some((s) => s.rest.startsWith("failed")),
          BOUND_MS,
        );
        expect(owner.find("state").at(-1)!.rest).toBe("failed PROJECTION_FENCED");
        expect(Number(other.find("acquired")[0]!.rest)).toBeGreaterThan(
          Number(owner.find("acquired")[0]!.rest),
        );

        writing = false;
        await writer;
        const head = (await log.headOfType(type))!.position;
        await waitUntil(
          async () =>
            (await pool.query(`SELECT 1 FROM "${schema}".writes WHERE position = $1`, [head])).rowCount! > 0,
          "the new owner to catch up",
          BOUND_MS,
        );
        await other.end("SIGTERM");

        const rows = (
          await pool.query(`SELECT position, instance FROM "${schema}".writes ORDER BY position, instance`)
        ).rows.map((r: { position: string; instance: string }) => ({
          position: Number(r.position),
          instance: r.instance,
        }));
        const positions: number[] = [];
        for await (const r of log.evtsByType(type)) positions.push(r.position);
        // Exactly once: every event of the log written once, nothing else.
        expect(rows.map((r) => r.position)).toEqual(positions);
        // The frozen batch was rolled back and written by the new owner; the old owner wrote nothing after it.
        const byOwner = rows.filter((r) => r.instance === owner.name).map((r) => r.position);
        const byOther = rows.filter((r) => r.instance === other.name).map((r) => r.position);
        expect(byOwner.filter((p) => p >= frozen[0])).toEqual([]);
        expect(byOther.filter((p) => p < frozen[0])).toEqual([]);
        expect(byOther).toContain(frozen[1]);
        console.info(
          `[projections/${leases} lease] SIGSTOP of the owner mid-batch: standby took over ${takeover.toFixed(0)} ms after the stop ` +
            `(TTL + poll = ${takeoverBound} ms); resumed after 2 x TTL it was fenced at its compare-and-set; ` +
            `${positions.length} events, ${byOwner.length} by the first owner, ${byOther.length} by the second`,
        );
      } finally {
        writing = false;
        await writer;
      }
    }, 60_000);
  },
);
