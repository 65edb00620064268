import { EventSourcedError } from "@eventsourced/core";

/** `acquire` was called on (or interrupted by) a `LeaseKeeper` that has been closed. */
export class LeaseKeeperClosedError extends EventSourcedError {
  static override readonly code: string = "LEASE_KEEPER_CLOSED";
  declare readonly code: "LEASE_KEEPER_CLOSED";
  constructor(readonly key: string) {
    super("LEASE_KEEPER_CLOSED", `cannot acquire lease ${JSON.stringify(key)}: the keeper is closed`);
  }
}

declare module "@eventsourced/core" {
  interface ErrorByCode {
    LEASE_KEEPER_CLOSED: LeaseKeeperClosedError;
  }
}
