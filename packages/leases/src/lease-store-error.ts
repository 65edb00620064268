import { EventSourcedError } from "@eventsourced/core";

/**
 * A lease store could not be reached or answered with an error; `cause` holds the driver's error. The outcome
 * may be unknown: treat the lease as not renewed (its earlier grant still bounds its validity) and retry.
 */
export class LeaseStoreError extends EventSourcedError {
  static override readonly code: string = "LEASE_STORE_FAILED";
  declare readonly code: "LEASE_STORE_FAILED";
  constructor(message: string, options?: { cause?: unknown }) {
    super("LEASE_STORE_FAILED", message, options);
  }
}

declare module "@eventsourced/core" {
  interface ErrorByCode {
    LEASE_STORE_FAILED: LeaseStoreError;
  }
}
