import { afterAll, beforeAll, describe } from "vitest";
import type { EvtLog } from "../../evt-log.js";
import { describeEvtLogByTypeCases } from "./evt-log-by-type-cases.js";
import { describeEvtLogReadCases } from "./evt-log-read-cases.js";
import { describeEvtLogRetentionCases } from "./evt-log-retention-contract.js";
import { describeEvtLogWriteCases } from "./evt-log-write-cases.js";

/** What a contract-suite factory returns: the adapter under test and how to clean it up. */
export interface ContractSubject<T> {
  readonly subject: T;
  /** Called once after the suite (drop the schema, delete the stream, close connections). */
  readonly cleanup?: (() => Promise<void>) | undefined;
}

/** Options of {@link describeEvtLogContract}. */
export interface EvtLogContractOptions {
  /**
   * Also run the retention cases (`EvtLogRetention`: deleting a prefix, never rewinding, reset). Default
   * true; a log that cannot delete events passes false.
   */
  readonly retention?: boolean | undefined;
}

/**
 * The EvtLog contract as a vitest suite. Every adapter runs it unchanged.
 * @example
 * describeEvtLogContract("PostgresEvtLog", async () => {
 *   const log = await PostgresEvtLog.create({ connectionString, schema });
 *   return { subject: log, cleanup: () => log.close() };
 * });
 */
export function describeEvtLogContract(
  name: string,
  factory: () => Promise<ContractSubject<EvtLog>>,
  options: EvtLogContractOptions = {},
): void {
  describe(`EvtLog contract: ${name}`, () => {
    let log: EvtLog;
    let cleanup: (() => Promise<void>) | undefined;

    beforeAll(async () => {
      const made = await factory();
      log = made.subject;
      cleanup = made.cleanup;
    });
    afterAll(async () => {
      await cleanup?.();
    });

    describeEvtLogWriteCases(() => log);
    describeEvtLogReadCases(() => log);
    describeEvtLogByTypeCases(() => log);
    if (options.retention ?? true) describeEvtLogRetentionCases(() => log);
  });
}
