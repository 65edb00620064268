import type pg from "pg";

/**
 * The raw baseline's hand-written group commit: one committer connection; every writer queues its event and
 * waits; the committer writes whatever queued up (at most 1000) as one `INSERT ... SELECT FROM unnest` into
 * `table` (already quoted). Returns the writers' append function.
 */
export function rawGroupCommitter(
  client: pg.Client | pg.PoolClient,
  table: string,
  contentType: string,
  bytes: Uint8Array,
): (id: string, seqNo: number) => Promise<void> {
  const sql = `INSERT INTO ${table} (type, id, seq_no, content_type, bytes)
    SELECT 'counter', id, seq_no, '${contentType}', bytes FROM unnest($1::text[], $2::int8[], $3::bytea[]) AS t(id, seq_no, bytes)`;
  let queue: { id: string; seq: number; done: () => void; fail: (err: unknown) => void }[] = [];
  let running = false;
  const drain = async () => {
    running = true;
    while (queue.length > 0) {
      const batch = queue.slice(0, 1000);
      queue = queue.slice(batch.length);
      try {
        await client.query(sql, [batch.map((b) => b.id), batch.map((b) => b.seq), batch.map(() => bytes)]);
        for (const b of batch) b.done();
      } catch (err) {
        for (const b of batch) b.fail(err);
      }
    }
    running = false;
  };
  return (id, seq) =>
    new Promise<void>((done, fail) => {
      queue.push({ id, seq, done, fail });
      if (!running) queueMicrotask(() => void drain());
    });
}
