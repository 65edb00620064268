/**
 * `npm run bench:core [-- --quick]`: the entity runtime's own cost, on the in-memory log with the JSON
 * binarizer, so that no database is measured (scenarios: bench/README.md, "What each suite measures").
 * `overhead` is what the runtime adds per command in µs; CPU time per command is recorded because other
 * processes on a busy machine disturb it far less than wall-clock time.
 */
import { Entity, jsonBinarizer, silentLogger } from "@eventsourced/core";
import { InMemoryEvtLog } from "@eventsourced/core/testing";
import { benchCounter, decideInc, foldInc, type IncCmd, type IncEvt } from "./bench-counter.js";
import { closedLoop, type Measured } from "./closed-loop.js";
import { comparisonRow, quick, rotateRounds } from "./measure.js";
import { machineFacts, type ResultRow, writeResults } from "./results.js";

const ROUNDS = quick ? 3 : 7;
const WINDOW_MS = quick ? 250 : 1_000;
const SCENARIOS = { "1 entity": 1, "1,000 entities": 1_000 };
const CMD: IncCmd = { inc: 1 };
const SERIES = "eventsourced-core";

/** Commands through `Entity.spawn` refs. */
async function runOurs(entities: number, durationMs: number): Promise<Measured> {
  const evtLog = new InMemoryEvtLog();
  const spawn = (i: number) => Entity.spawn(`e${i}`, benchCounter, { evtLog, logger: silentLogger });
  const refs = await Promise.all(Array.from({ length: entities }, (_, i) => spawn(i)));
  const measured = await closedLoop({ workers: entities, durationMs }, async (entity) => {
    const result = await refs[entity]!.handleCmd(CMD);
    if (result.kind !== "accepted") throw new Error("unexpected rejection");
  });
  await Promise.all(refs.map((ref) => ref.stop()));
  return measured;
}

/** The same work by hand: decide, encode, persist, fold, reply. */
async function runBaseline(entities: number, durationMs: number): Promise<Measured> {
  const evtLog = new InMemoryEvtLog();
  const binarizer = jsonBinarizer<IncEvt, number>();
  const states = new Array<number>(entities).fill(0);
  return closedLoop({ workers: entities, durationMs }, async (entity, seq) => {
    const decision = decideInc(states[entity]!, CMD);
    if (decision.kind !== "emit") throw new Error("unexpected decision");
    const newEvts = decision.evts.map((evt) => ({
      bytes: binarizer.evtToBytes(evt),
      contentType: binarizer.contentType,
    }));
    await evtLog.persist("benchCounter", `e${entity}`, seq, newEvts);
    for (const evt of decision.evts) states[entity] = foldInc(states[entity]!, evt);
    decision.reply(states[entity]!);
  });
}

async function main(): Promise<void> {
  const mode = quick ? "quick" : "full";
  console.log(`core benchmark (${mode}): ${ROUNDS} rounds of ${WINDOW_MS} ms per scenario`);
  // Warm up both paths so the first round does not measure the JIT.
  await runOurs(10, WINDOW_MS);
  await runBaseline(10, WINDOW_MS);

  const rows: ResultRow[] = [];
  for (const [scenario, entities] of Object.entries(SCENARIOS)) {
    const results = await rotateRounds(ROUNDS, {
      ours: () => runOurs(entities, WINDOW_MS),
      baseline: () => runBaseline(entities, WINDOW_MS),
    });
    const [ours, baseline] = [results.get("ours")!, results.get("baseline")!];
    const micros = (m: Measured) => 1e6 / m.perSecond;
    const fields = (metric: string, unit: string) => ({ scenario, metric, unit, series: SERIES, entities });
    const overheads = ours.map((m, i) => micros(m) - micros(baseline[i]!));
    rows.push(
      comparisonRow(fields("throughput", "commands/s"), (m) => m.perSecond, ours, baseline),
      comparisonRow(fields("per-command", "µs"), micros, ours, baseline),
      comparisonRow(fields("cpu-per-command", "µs"), (m) => m.cpuMicros, ours, baseline),
      comparisonRow(fields("overhead", "µs"), (overhead) => overhead, overheads),
    );
    console.log(`${scenario} done`);
  }
  writeResults("core", rows, machineFacts());
}

await main();
