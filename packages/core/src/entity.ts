import type { EntityRef, SpawnOptions } from "./entity-ref.js";
import type { EventSourced } from "./event-sourced.js";

/** Spawns entities. */
export const Entity = {
  /**
   * Recovers the entity `id` (latest snapshot, then exactly the events after it) and starts it as a
   * mailbox-serialized actor. Resolves once recovery has finished.
   */
  async spawn<S, C, E, R, J>(
    _id: string,
    _definition: EventSourced<S, C, E, R, J>,
    _options: SpawnOptions<S, E>,
  ): Promise<EntityRef<C, R, J>> {
    throw new Error("not implemented yet");
  },
};
