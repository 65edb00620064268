import {
  connectTestNats,
  deleteStream,
  NATS_URL,
  uniqueName,
} from "../../evtlog-nats/test/support/nats-test-env.js";
import { describeKeeperProcessScenarios } from "./support/keeper-process-scenarios.js";

describeKeeperProcessScenarios("NATS", async () => {
  await (await connectTestNats()).close(); // fails with how to start NATS when it is down
  const bucket = uniqueName("leases_proc");
  return {
    args: ["nats", NATS_URL, bucket],
    cleanup: async () => {
      const nc = await connectTestNats();
      await deleteStream(nc, `KV_${bucket}`);
      await nc.close();
    },
  };
});
