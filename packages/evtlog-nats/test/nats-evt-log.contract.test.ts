import { describeEvtLogContract } from "@eventsourced/core/testing/vitest";
import { NatsEvtLog } from "@eventsourced/evtlog-nats";
import { connectTestNats, deleteStream, NATS_URL, uniqueName } from "./support/nats-test-env.js";

describeEvtLogContract("NatsEvtLog", async () => {
  const nc = await connectTestNats();
  const stream = uniqueName("contract");
  const log = await NatsEvtLog.connect({
    servers: NATS_URL,
    stream: { name: stream, subjectPrefix: stream, storage: "memory" },
  });
  return {
    subject: log,
    cleanup: async () => {
      await log.close();
      await deleteStream(nc, stream);
      await nc.close();
    },
  };
});
