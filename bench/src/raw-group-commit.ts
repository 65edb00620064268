import type pg from "pg";

/** One writer's append waiting in a raw committer's queue. */
export interface QueuedAppend {
  readonly id: string;
  readonly seq: number;
}

/**
 * The queue of the raw baselines' hand-written group commits: every writer queues its append and waits;
 * one batch at a time, whatever queued up (at most 1000) goes to `write`, which returns for each append
 * whether it was written (undefined: all were). A batch whose write throws fails all its writers.
 */
export function batchingCommitter(
  write: (batch: readonly QueuedAppend[]) => Promise<readonly boolean[] | undefined>,
): (id: string, seqNo: number) => Promise<void> {
  type Waiting = QueuedAppend & { done: () => void; fail: (err: unknown) => void };
  let queue: Waiting[] = [];
  let running = false;
  const drain = async () => {
    running = true;
    while (queue.length > 0) {
      const batch = queue.slice(0, 1000);
      queue = queue.slice(batch.length);
      try {
        const written = await write(batch);
        batch.forEach((b, i) => {
          if (written === undefined || written[i]) b.done();
          else b.fail(new Error(`raw commit: ${b.id} at ${b.seq} conflicted`));
        });
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

/**
 * The raw baseline's hand-written group commit: one committer connection writes each batch as one
 * `INSERT ... SELECT FROM unnest` into `table` (already quoted). Returns the writers' append function.
 */
export function rawGroupCommitter(
  client: pg.Client | pg.PoolClient,
  table: string,
  contentType: string,
  bytes: Uint8Array,
): (id: string, seqNo: number) => Promise<void> {
  const sql = `INSERT INTO ${table} (type, id, seq_no, content_type, bytes)
    SELECT 'counter', id, seq_no, '${contentType}', bytes FROM unnest($1::text[], $2::int8[], $3::bytea[]) AS t(id, seq_no, bytes)`;
  return batchingCommitter(async (batch) => {
    await client.query(sql, [batch.map((b) => b.id), batch.map((b) => b.seq), batch.map(() => bytes)]);
    return undefined;
  });
}
