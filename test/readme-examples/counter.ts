// "Using the counter in code" in examples/counter/README.md, verbatim between the region markers
// (test/readme-code-blocks.test.ts checks); test/readme-examples.test.ts runs it and checks the results
// the comments show.
// #region usage
import { Entity } from "@eventsourced/core";
import { InMemoryEvtLog } from "@eventsourced/core/testing";
import { counter, counterBinarizer, dec, get, inc } from "@eventsourced/example-counter";

export async function useTheCounter() {
  const ref = await Entity.spawn("counter-0", counter, {
    evtLog: new InMemoryEvtLog(),
    binarizer: counterBinarizer("protobuf"),
  });
  const results = [
    await ref.handleCmd(inc(5)), // { kind: "accepted", reply: 5n, seqNo: 1, position: 1 }
    await ref.handleCmd(dec(7)), // { kind: "rejected", rejection: { kind: "underflow", value: 5n, dec: 7n }, seqNo: 1 }
    await ref.handleCmd(get()), // { kind: "accepted", reply: 5n, seqNo: 1, position: undefined }
  ];
  await ref.stop();
  return results;
}
// #endregion usage
