import { describeEvtLogContract } from "@eventsourced/core/testing/vitest";
import { PostgresEvtLog } from "@eventsourced/evtlog-postgres";
import { DATABASE_URL, dropSchema, testPool, uniqueSchemaName } from "./pg-test-database.js";

describeEvtLogContract("PostgresEvtLog", async () => {
  await (await testPool(1)).end();
  const schema = uniqueSchemaName("contract");
  const log = await PostgresEvtLog.create({ connectionString: DATABASE_URL, schema, maxConnections: 4 });
  return {
    subject: log,
    cleanup: async () => {
      await log.close();
      await dropSchema(schema);
    },
  };
});
