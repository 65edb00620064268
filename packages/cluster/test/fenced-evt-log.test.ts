import { FencedEvtLog } from "@eventsourced/cluster";
import {
  Entity,
  type EvtLog,
  type EvtLogBulkReads,
  type EvtRange,
  type EvtsByIdOptions,
  evtsByIdsOf,
  type IdEvtRecord,
  silentLogger,
  supportsBulkReads,
} from "@eventsourced/core";
import { InMemoryEvtLog } from "@eventsourced/core/testing";
import { describe, expect, it } from "vitest";
import { counterOf } from "./support/cluster-env.js";

/** An in-memory log with bulk reads, counting how entities' events were read. */
class BulkLog extends InMemoryEvtLog implements EvtLogBulkReads {
  bulkReads = 0;
  singleReads = 0;

  override evtsById(type: string, id: string, options: EvtsByIdOptions) {
    this.singleReads++;
    return super.evtsById(type, id, options);
  }

  evtsByIds(type: string, ranges: readonly EvtRange[]): AsyncIterable<IdEvtRecord> {
    this.bulkReads++;
    const plain: EvtLog = {
      persist: (...args) => super.persist(...args),
      lastSeqNo: (t, i) => super.lastSeqNo(t, i),
      evtsById: (t, i, o) => super.evtsById(t, i, o),
      evtsByType: (t, o) => super.evtsByType(t, o),
    };
    return evtsByIdsOf(plain, type, ranges);
  }
}

const lease = { key: "cluster.c.t.3", epoch: 7, isValid: () => true };

describe("FencedEvtLog (cluster, L1) forwards the wrapped log's capabilities", () => {
  it("bulk recovery through a tenure reads in bulk when the wrapped log can", async () => {
    const log = new BulkLog();
    const counter = counterOf("bulk");
    const ids = ["a", "b", "c"];
    for (const [i, id] of ids.entries()) {
      const ref = await Entity.spawn(id, counter, { evtLog: log, logger: silentLogger });
      await ref.handleCmd({ type: "inc", by: i + 1 });
      await ref.stop();
    }
    log.bulkReads = 0;
    log.singleReads = 0;
    const fenced = new FencedEvtLog(log, lease, 3);
    expect(supportsBulkReads(fenced)).toBe(true);

    const refs = await Entity.spawnMany(ids, counter, { evtLog: fenced, logger: silentLogger });

    expect({ bulk: log.bulkReads, single: log.singleReads }).toEqual({ bulk: 1, single: 0 });
    const replies = await Promise.all(refs.map((ref) => ref.handleCmd({ type: "get" })));
    expect(replies.map((r) => (r.kind === "accepted" ? r.reply : r.kind))).toEqual([1, 2, 3]);
    await Promise.all(refs.map((ref) => ref.stop()));
  });

  it("offers no bulk read when the wrapped log has none", () => {
    const fenced = new FencedEvtLog(new InMemoryEvtLog(), lease, 3);
    expect(supportsBulkReads(fenced)).toBe(false);
    expect("evtsByIds" in fenced).toBe(false);
  });
});
