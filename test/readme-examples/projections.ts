// The examples of packages/projections/README.md, verbatim between the region markers
// (test/readme-code-blocks.test.ts checks); test/readme-examples-projections.test.ts runs them.
// #region exactly-once
import { Entity, type EvtLog, jsonBinarizer } from "@eventsourced/core";
import { Projection } from "@eventsourced/projections";
import { exactlyOnce, PostgresProjectionStore } from "@eventsourced/projections/postgres";
import type pg from "pg";
import { account } from "./account.js"; // the entity of the repository README's quickstart

type AccountEvt = { type: "deposited"; amount: number } | { type: "withdrawn"; amount: number };

/** Keeps a `balances` table beside the log (which may be PostgreSQL or NATS); reads one back after a deposit. */
export async function balancesExactlyOnce(pool: pg.Pool, evtLog: EvtLog, schema: string): Promise<number> {
  const balances = `"${schema}".balances`;
  // The store first: it creates the schema (a NATS log creates none).
  const store = await PostgresProjectionStore.create({ pool, schema }); // default schema "eventsourced"
  await pool.query(`CREATE TABLE IF NOT EXISTS ${balances} (id text PRIMARY KEY, balance bigint NOT NULL)`);
  const projection = Projection.create({
    name: "account-balances",
    evtLog,
    type: "account",
    binarizer: jsonBinarizer<AccountEvt, unknown>(), // the entity's binarizer
    handler: exactlyOnce<AccountEvt>(store, {
      handle: async (evts, tx) => {
        for (const e of evts) {
          const delta = e.evt.type === "deposited" ? e.evt.amount : -e.evt.amount;
          await tx.query(
            `INSERT INTO ${balances} AS b VALUES ($1, $2) ON CONFLICT (id) DO UPDATE SET balance = b.balance + $2`,
            [e.id, delta],
          );
        }
      },
      reset: async (tx) => {
        await tx.query(`TRUNCATE ${balances}`); // for rebuild()
      },
    }),
    // lease: keeper, // optional: one active instance across processes (see below)
  });
  projection.start();
  try {
    const ref = await Entity.spawn("account-1", account, { evtLog });
    const result = await ref.handleCmd({ type: "deposit", amount: 100 });
    await ref.stop();
    if (result.kind === "accepted" && result.position !== undefined) {
      await projection.waitFor(result.position); // read your writes
    }
    const { rows } = await pool.query(`SELECT balance FROM ${balances} WHERE id = $1`, ["account-1"]);
    return Number(rows[0].balance);
  } finally {
    await projection.stop();
  }
}

// #endregion exactly-once

// #region at-least-once
import { atLeastOnce, type ProjectedEvt } from "@eventsourced/projections";
import { NatsKvProjectionStore } from "@eventsourced/projections/nats";
import type { NatsConnection } from "@nats-io/transport-node";

/** Hands every account event to `notify` (an e-mail, an HTTP call): again after a crash, never lost. */
export async function notifyAtLeastOnce(
  nc: NatsConnection,
  bucket: string, // default "eventsourced-projections"
  evtLog: EvtLog,
  notify: (evts: readonly ProjectedEvt<AccountEvt>[]) => Promise<void>,
): Promise<Projection<AccountEvt>> {
  const store = await NatsKvProjectionStore.create({ connection: nc, bucket }); // checkpoints in a KV bucket
  const projection = Projection.create({
    name: "deposit-notices",
    evtLog,
    type: "account",
    binarizer: jsonBinarizer<AccountEvt, unknown>(),
    handler: atLeastOnce({ store, handle: notify, saveAfterEvents: 100, saveAfterMs: 500 }),
  });
  projection.start(); // later: await projection.stop() (saves the checkpoint)
  return projection;
}

// #endregion at-least-once

// #region inline
import { PostgresEvtLog } from "@eventsourced/evtlog-postgres";
import { inlineProjection, inlineProjections } from "@eventsourced/projections/postgres";

type UserEvt = { type: "registered"; email: string };

/** A log on which no two users ever register one e-mail address: the view commits with the events. */
export async function logWithUniqueEmails(pool: pg.Pool, schema: string): Promise<PostgresEvtLog> {
  const emails = `"${schema}".emails`;
  await pool.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
  await pool.query(`CREATE TABLE IF NOT EXISTS ${emails} (email text PRIMARY KEY, user_id text NOT NULL)`);
  const view = inlineProjection({
    name: "user-emails",
    type: "user",
    binarizer: jsonBinarizer<UserEvt, unknown>(),
    handle: async (evts, tx) => {
      await tx.query(`INSERT INTO ${emails} (email, user_id) SELECT * FROM unnest($1::text[], $2::text[])`, [
        evts.map((e) => e.evt.email),
        evts.map((e) => e.id),
      ]);
    },
  });
  return PostgresEvtLog.create({ pool, schema, maxConnections: 4, inTransaction: inlineProjections(view) });
}

// #endregion inline

// #region rxjs
import { observeProjected } from "@eventsourced/projections/rxjs";
import { bufferTime, filter, type Subscription } from "rxjs";

/** The account events in batches of 100 ms, for a screen; unsubscribing ends the read. */
export function renderAccounts(
  evtLog: EvtLog,
  render: (evts: readonly ProjectedEvt<AccountEvt>[]) => void,
): Subscription {
  return observeProjected(evtLog, "account", jsonBinarizer<AccountEvt, unknown>(), { live: true })
    .pipe(
      bufferTime(100),
      filter((evts) => evts.length > 0),
    )
    .subscribe(render);
}
// #endregion rxjs
