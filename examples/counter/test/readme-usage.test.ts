import { Entity } from "@eventsourced/core";
import { InMemoryEvtLog } from "@eventsourced/core/testing";
import { expect, it } from "vitest";
import { counter, counterBinarizer, dec, get, inc } from "../src/index.js";

// Mirrors "Using the counter in code" in README.md, with the results it shows there.
it("the README's usage example gives the results it shows", async () => {
  const ref = await Entity.spawn("counter-0", counter, {
    evtLog: new InMemoryEvtLog(),
    binarizer: counterBinarizer("protobuf"),
  });
  expect(await ref.handleCmd(inc(5))).toMatchObject({ kind: "accepted", reply: 5n, seqNo: 1 });
  expect(await ref.handleCmd(dec(7))).toEqual({
    kind: "rejected",
    rejection: { kind: "underflow", value: 5n, dec: 7n },
    seqNo: 1,
  });
  expect(await ref.handleCmd(get())).toMatchObject({ kind: "accepted", reply: 5n, seqNo: 1 });
  await ref.stop();
});
