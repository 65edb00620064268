import { defineEntity, Entity, emit, isEventSourcedError, silentLogger } from "@eventsourced/core";
import { InMemoryEvtLog } from "@eventsourced/core/testing";
import { PostgresEvtLog } from "@eventsourced/evtlog-postgres";
import type { ProjectedEvt } from "@eventsourced/projections";
import { Kvm } from "@nats-io/kv";
import { afterAll, describe, expect, it } from "vitest";
import { connectTestNats, uniqueName } from "../packages/evtlog-nats/test/support/nats-test-env.js";
import { dropSchema, testPool, uniqueSchemaName } from "../packages/evtlog-postgres/test/pg-test-database.js";
import { account } from "./readme-examples/account.js";
import {
  balancesExactlyOnce,
  logWithUniqueEmails,
  notifyAtLeastOnce,
  renderAccounts,
} from "./readme-examples/projections.js";

// The examples of packages/projections/README.md against the local servers, each in its own schema and bucket.
// test/readme-code-blocks.test.ts checks that the README shows exactly this code.

const waitUntil = async (condition: () => boolean, what: string) => {
  const deadline = Date.now() + 20_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
};

const user = defineEntity({
  typeName: "user",
  initialState: () => ({}),
  commands: { register: (_state, cmd: { email: string }) => emit({ type: "registered", email: cmd.email }) },
  handleEvt: (state) => state,
});

describe("the projections README's examples", () => {
  const schemas: string[] = [];
  afterAll(async () => {
    for (const name of schemas) await dropSchema(name);
  });

  it("exactly-once: the balance is read back right after the deposit's position was projected", async () => {
    const schema = uniqueSchemaName("readme_proj");
    schemas.push(schema);
    const pool = await testPool(3);
    const evtLog = await PostgresEvtLog.create({ pool, schema, maxConnections: 2, logger: silentLogger });
    try {
      expect(await balancesExactlyOnce(pool, evtLog, schema)).toBe(100);
    } finally {
      await evtLog.close();
      await pool.end();
    }
  });

  it("exactly-once with a log that is not in PostgreSQL (no schema made by the log): the same result", async () => {
    const schema = uniqueSchemaName("readme_proj_mem");
    schemas.push(schema);
    const pool = await testPool(3);
    try {
      expect(await balancesExactlyOnce(pool, new InMemoryEvtLog(), schema)).toBe(100);
    } finally {
      await pool.end();
    }
  });

  it("at-least-once: every event reaches the notifier, with its checkpoint in a NATS KV bucket", async () => {
    const nc = await connectTestNats();
    const bucket = uniqueName("readme-proj");
    const evtLog = new InMemoryEvtLog();
    const seen: ProjectedEvt<unknown>[] = [];
    try {
      const projection = await notifyAtLeastOnce(nc, bucket, evtLog, async (evts) => {
        seen.push(...evts);
      });
      const ref = await Entity.spawn("account-1", account, { evtLog });
      await ref.handleCmd({ type: "deposit", amount: 10 });
      await ref.handleCmd({ type: "withdraw", amount: 4 });
      await ref.stop();
      await projection.whenCaughtUp();
      await projection.stop();
      expect(seen.map((e) => e.evt)).toEqual([
        { type: "deposited", amount: 10 },
        { type: "withdrawn", amount: 4 },
      ]);
    } finally {
      await (await new Kvm(nc).open(bucket)).destroy().catch(() => {});
      await nc.close();
    }
  });

  it("inline: the second user registering an e-mail address is refused with its typed error", async () => {
    const schema = uniqueSchemaName("readme_inline");
    schemas.push(schema);
    const pool = await testPool(4);
    const evtLog = await logWithUniqueEmails(pool, schema);
    try {
      const first = await Entity.spawn("user-1", user, { evtLog });
      const second = await Entity.spawn("user-2", user, { evtLog });
      expect((await first.handleCmd({ type: "register", email: "a@example.com" })).kind).toBe("accepted");
      const refused = await second.handleCmd({ type: "register", email: "a@example.com" }).catch((e) => e);
      expect(isEventSourcedError(refused, "INLINE_PROJECTION_REJECTED")).toBe(true);
      const { rows } = await pool.query(`SELECT email, user_id FROM "${schema}".emails`);
      expect(rows).toEqual([{ email: "a@example.com", user_id: "user-1" }]);
      await first.stop();
      await second.stop();
    } finally {
      await evtLog.close();
      await pool.end();
    }
  });

  it("rxjs: the decoded events arrive in batches until unsubscribed", async () => {
    const evtLog = new InMemoryEvtLog();
    const rendered: unknown[] = [];
    const subscription = renderAccounts(evtLog, (evts) => rendered.push(...evts.map((e) => e.evt)));
    try {
      const ref = await Entity.spawn("account-1", account, { evtLog });
      await ref.handleCmd({ type: "deposit", amount: 7 });
      await ref.stop();
      await waitUntil(() => rendered.length === 1, "the rendered batch");
      expect(rendered).toEqual([{ type: "deposited", amount: 7 }]);
    } finally {
      subscription.unsubscribe();
    }
  });
});
