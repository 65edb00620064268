import { EntityRegistry, silentLogger } from "@eventsourced/core";
import { InMemoryEvtLog, uniqueTypeName } from "@eventsourced/core/testing";
import { OpenTelemetryInstrumentation } from "@eventsourced/opentelemetry";
import { BasicTracerProvider, type SpanProcessor } from "@opentelemetry/sdk-trace-base";
import { describe, expect, it } from "vitest";
import { accountEntity } from "./support/account.js";
import { useAsyncContext } from "./support/otel.js";

// An SDK whose span processor throws (a broken exporter, a bug in a plugin) must never break a command: the
// runtime guards every hook, so a durable command is never reported as failed and an entity never sticks.

function throwingProcessor(when: "onStart" | "onEnd"): SpanProcessor {
  const fail = () => {
    throw new Error(`processor ${when} failed`);
  };
  return {
    onStart: when === "onStart" ? fail : () => {},
    onEnd: when === "onEnd" ? fail : () => {},
    forceFlush: async () => {},
    shutdown: async () => {},
  };
}

describe("a span processor that throws", () => {
  it.each(["onStart", "onEnd"] as const)(
    "in %s: every command is answered as the log says, the entity keeps serving, close() returns",
    async (when) => {
      useAsyncContext();
      const unhandled: unknown[] = [];
      const onUnhandled = (reason: unknown) => unhandled.push(reason);
      process.on("unhandledRejection", onUnhandled);
      const tracerProvider = new BasicTracerProvider({ spanProcessors: [throwingProcessor(when)] });
      const instrumentation = new OpenTelemetryInstrumentation({ tracerProvider });
      const evtLog = new InMemoryEvtLog();
      const type = uniqueTypeName("acct");
      const registry = new EntityRegistry(accountEntity(type), {
        evtLog,
        logger: silentLogger,
        instrumentation,
      });
      try {
        for (let i = 1; i <= 3; i++) {
          expect(await registry.send("a", { type: "deposit", amount: 1 })).toMatchObject({
            kind: "accepted",
            seqNo: i,
          });
        }
        expect(await evtLog.lastSeqNo(type, "a")).toBe(3);
        await registry.close();
        await new Promise((resolve) => setImmediate(resolve));
        expect(unhandled).toEqual([]);
      } finally {
        process.off("unhandledRejection", onUnhandled);
        instrumentation.close();
        await tracerProvider.shutdown();
      }
    },
  );
});
