import { describeEvtLogContract } from "@eventsourced/core/testing/vitest";
import { PostgresEvtLog } from "@eventsourced/evtlog-postgres";
import { DATABASE_URL, dropSchema, testPool, uniqueSchemaName } from "./pg-test-database.js";

/** The contract on a log with `maxConnections` (4: one committer lane; 10, the default: two, ADR 0116). */
function describeContract(name: string, maxConnections: number): void {
  describeEvtLogContract(name, async () => {
    await (await testPool(1)).end();
    const schema = uniqueSchemaName("contract");
    const log = await PostgresEvtLog.create({ connectionString: DATABASE_URL, schema, maxConnections });
    return {
      subject: log,
      cleanup: async () => {
        await log.close();
        await dropSchema(schema);
      },
    };
  });
}

describeContract("PostgresEvtLog", 4);
describeContract("PostgresEvtLog with two committer lanes", 10);
