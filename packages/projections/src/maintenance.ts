/** Work an operator asked the active instance to run between batches (reset, rebuild, re-drive). */
export interface Maintenance {
  run(): Promise<void>;
  resolve(): void;
  reject(err: unknown): void;
}

/** Runs every queued maintenance in order and settles each with its outcome; the queue is left empty. */
export async function runMaintenance(queue: Maintenance[]): Promise<void> {
  for (const m of queue.splice(0)) {
    try {
      await m.run();
      m.resolve();
    } catch (err) {
      m.reject(err);
    }
  }
}
