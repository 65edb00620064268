export { NatsServerProcess } from "../../../../test/support/nats-server-process.js";
export {
  connectTestNats,
  deleteStream,
  NATS_URL,
  uniqueName,
} from "../../../evtlog-nats/test/support/nats-test-env.js";
