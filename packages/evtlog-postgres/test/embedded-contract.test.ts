import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describeEvtLogContract } from "@eventsourced/core/testing";
import { PostgresEvtLog } from "@eventsourced/evtlog-postgres";
import { startEmbeddedPostgres } from "../src/embedded/index.js";

describeEvtLogContract("PostgresEvtLog on embedded PGlite", async () => {
  const dataDir = mkdtempSync(join(tmpdir(), "eventsourced-pglite-"));
  const embedded = await startEmbeddedPostgres({ dataDir });
  const log = await PostgresEvtLog.create({ connectionString: embedded.connectionString });
  return {
    subject: log,
    cleanup: async () => {
      await log.close();
      await embedded.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
});
