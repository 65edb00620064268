import type { EntityConfig } from "../entity-config.js";
import { InvalidArgumentError } from "../errors/index.js";
import type { CmdSpec } from "../event-sourced.js";
import type { EvtLog } from "../evt-log.js";

/**
 * The entity config for each id of a registry: the registry's own, or (with `evtLogFor`) a frozen copy per
 * event log, made once per log and shared by every id on it.
 */
export class ConfigByLog<S, E, P extends CmdSpec> {
  readonly #config: EntityConfig<S, E, P>;
  readonly #evtLogFor: ((id: string) => EvtLog) | undefined;
  readonly #configs = new WeakMap<EvtLog, EntityConfig<S, E, P>>();

  constructor(config: EntityConfig<S, E, P>, evtLogFor: ((id: string) => EvtLog) | undefined) {
    this.#config = config;
    this.#evtLogFor = evtLogFor;
  }

  /** The config to spawn `id` with; `InvalidArgumentError` when `evtLogFor` returns something else than a log. */
  for(id: string): EntityConfig<S, E, P> {
    if (this.#evtLogFor === undefined) return this.#config;
    const evtLog = this.#evtLogFor(id);
    if (evtLog === this.#config.evtLog) return this.#config;
    if (typeof (evtLog as Partial<EvtLog> | undefined)?.persist !== "function") {
      throw new InvalidArgumentError(
        `evtLogFor returned ${typeof evtLog} for ${JSON.stringify(id)}, not an EvtLog`,
      );
    }
    let config = this.#configs.get(evtLog);
    if (config === undefined) {
      config = Object.freeze({ ...this.#config, evtLog });
      this.#configs.set(evtLog, config);
    }
    return config;
  }
}
