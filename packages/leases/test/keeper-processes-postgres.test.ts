import {
  DATABASE_URL,
  dropSchema,
  testPool,
  uniqueSchemaName,
} from "../../evtlog-postgres/test/pg-test-database.js";
import { describeKeeperProcessScenarios } from "./support/keeper-process-scenarios.js";

describeKeeperProcessScenarios("PostgreSQL", async () => {
  await (await testPool(1)).end(); // fails with how to start PostgreSQL when it is down
  const schema = uniqueSchemaName("leases_proc");
  return { args: ["postgres", DATABASE_URL, schema], cleanup: () => dropSchema(schema) };
});
