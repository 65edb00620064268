/**
 * `npm run bench:core [-- --quick]`: the entity runtime's own cost, on the in-memory log with the JSON
 * binarizer, so that no database is measured.
 *
 * Scenarios: one entity driven by a sequential loop, and 1,000 entities each driven by its own sequential
 * loop, all concurrently. The baseline does the same work by hand, without the runtime (decide, encode,
 * `log.persist`, fold), so `ratio` shows what the mailbox actor adds; `overhead` is that difference per
 * command in µs. Rounds interleave ours and the baseline so machine drift hits both alike.
 *
 * Besides wall-clock figures it records CPU time per command (user + system of this process, GC included),
 * which other processes on a busy machine disturb far less than wall-clock time.
 */
import {
  type Decision,
  defineEntity,
  Entity,
  type EntityRef,
  emitAndReply,
  jsonBinarizer,
  type ProtocolOf,
  reject,
  silentLogger,
} from "@eventsourced/core";
import { InMemoryEvtLog } from "@eventsourced/core/testing";
import { interleave, median, quick } from "./measure.js";
import { machineFacts, type ResultRow, writeResults } from "./results.js";

interface Cmd {
  readonly inc: number;
}
interface Evt {
  readonly by: number;
}
type Rejection = "overflow";

function decide(state: number, cmd: Cmd): Decision<number, Evt, number, Rejection> {
  return state + cmd.inc > Number.MAX_SAFE_INTEGER
    ? reject("overflow")
    : emitAndReply<number, Evt, number>([{ by: cmd.inc }], (s) => s);
}

function fold(state: number, evt: Evt): number {
  return state + evt.by;
}

const counter = defineEntity<number, Cmd, Evt, number, Rejection>({
  typeName: "benchCounter",
  initialState: () => 0,
  handleCmd: decide,
  handleEvt: fold,
});

const ROUNDS = quick ? 3 : 7;
const SCENARIOS = [
  { scenario: "1 entity", entities: 1, commandsPerEntity: quick ? 20_000 : 100_000 },
  { scenario: "1,000 entities", entities: 1_000, commandsPerEntity: quick ? 20 : 100 },
] as const;

/** CPU µs per command of each round, per side. */
const cpu = { ours: [] as number[], baseline: [] as number[] };

function cpuMicros(): number {
  const { user, system } = process.cpuUsage();
  return user + system;
}

/** Commands per second through `Entity.spawn` refs. */
async function runOurs(entities: number, commandsPerEntity: number): Promise<number> {
  const evtLog = new InMemoryEvtLog();
  const refs: EntityRef<ProtocolOf<typeof counter>>[] = await Promise.all(
    Array.from({ length: entities }, (_, i) =>
      Entity.spawn(`e${i}`, counter, { evtLog, logger: silentLogger }),
    ),
  );
  const cmd: Cmd = { inc: 1 };
  const startCpu = cpuMicros();
  const start = process.hrtime.bigint();
  await Promise.all(
    refs.map(async (ref) => {
      for (let n = 0; n < commandsPerEntity; n++) {
        const result = await ref.handleCmd(cmd);
        if (result.kind !== "accepted") throw new Error("unexpected rejection");
      }
    }),
  );
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  cpu.ours.push((cpuMicros() - startCpu) / (entities * commandsPerEntity));
  await Promise.all(refs.map((ref) => ref.stop()));
  return (entities * commandsPerEntity) / seconds;
}

/** Commands per second doing the same work by hand: decide, encode, persist, fold, reply. */
async function runBaseline(entities: number, commandsPerEntity: number): Promise<number> {
  const evtLog = new InMemoryEvtLog();
  const binarizer = jsonBinarizer<Evt, number>();
  const cmd: Cmd = { inc: 1 };
  const startCpu = cpuMicros();
  const start = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: entities }, async (_, i) => {
      const id = `e${i}`;
      let state = 0;
      let seqNo = 0;
      for (let n = 0; n < commandsPerEntity; n++) {
        const decision = decide(state, cmd);
        if (decision.kind !== "emit") throw new Error("unexpected decision");
        const evts = decision.evts;
        const newEvts = evts.map((evt) => ({
          bytes: binarizer.evtToBytes(evt),
          contentType: binarizer.contentType,
        }));
        await evtLog.persist("benchCounter", id, seqNo, newEvts);
        for (const evt of evts) state = fold(state, evt);
        seqNo += evts.length;
        decision.reply(state);
      }
    }),
  );
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  cpu.baseline.push((cpuMicros() - startCpu) / (entities * commandsPerEntity));
  return (entities * commandsPerEntity) / seconds;
}

async function main(): Promise<void> {
  console.log(`core benchmark (${quick ? "quick" : "full"}): ${ROUNDS} rounds per scenario`);
  // Warm up both paths so the first round does not measure the JIT.
  await runOurs(10, quick ? 200 : 2_000);
  await runBaseline(10, quick ? 200 : 2_000);

  const rows: ResultRow[] = [];
  for (const { scenario, entities, commandsPerEntity } of SCENARIOS) {
    cpu.ours.length = 0;
    cpu.baseline.length = 0;
    const { ours, baseline } = await interleave(
      ROUNDS,
      () => runOurs(entities, commandsPerEntity),
      () => runBaseline(entities, commandsPerEntity),
    );
    const throughput = median(ours);
    const baselineThroughput = median(baseline);
    const perCommand = ours.map((t) => 1e6 / t);
    const baselinePerCommand = baseline.map((t) => 1e6 / t);
    const overhead = ours.map((t, i) => 1e6 / t - 1e6 / baseline[i]!);
    const common = { scenario, rounds: ROUNDS, entities, series: "eventsourced-core" } as const;
    rows.push(
      {
        ...common,
        metric: "throughput",
        value: throughput,
        unit: "commands/s",
        baseline: baselineThroughput,
        ratio: throughput / baselineThroughput,
        min: Math.min(...ours),
        max: Math.max(...ours),
      },
      {
        ...common,
        metric: "per-command",
        value: median(perCommand),
        unit: "µs",
        baseline: median(baselinePerCommand),
        ratio: median(baselinePerCommand) / median(perCommand),
        min: Math.min(...perCommand),
        max: Math.max(...perCommand),
      },
      {
        ...common,
        metric: "cpu-per-command",
        value: median(cpu.ours),
        unit: "µs",
        baseline: median(cpu.baseline),
        ratio: median(cpu.baseline) / median(cpu.ours),
        min: Math.min(...cpu.ours),
        max: Math.max(...cpu.ours),
      },
      {
        ...common,
        metric: "overhead",
        value: median(overhead),
        unit: "µs",
        min: Math.min(...overhead),
        max: Math.max(...overhead),
      },
    );
    console.log(
      `${scenario}: ${Math.round(throughput).toLocaleString("en-US")} commands/s ` +
        `(baseline ${Math.round(baselineThroughput).toLocaleString("en-US")}), ` +
        `runtime overhead ${median(overhead).toFixed(2)} µs/command wall-clock, ` +
        `CPU ${median(cpu.ours).toFixed(2)} µs/command (baseline ${median(cpu.baseline).toFixed(2)})`,
    );
  }
  writeResults("core", rows, machineFacts());
}

await main();
