import { randomUUID } from "node:crypto";
import type { OperatorRequest, StoredOperatorRequest } from "./projection-store.js";

/** How a stored request is kept in JSON (a PostgreSQL jsonb array element, a field of a NATS KV value). */
export interface OperatorRequestJson {
  readonly id: string;
  readonly kind: string;
  readonly position?: number | undefined;
  /** ISO 8601. */
  readonly requestedAt: string;
}

/** A new request's JSON, with a fresh id, requested now (the store's clock where it can supply one). */
export function newRequestJson(request: OperatorRequest): OperatorRequestJson {
  return {
    id: randomUUID(),
    kind: request.kind,
    ...(request.kind === "redrive" ? { position: request.position } : {}),
    requestedAt: new Date().toISOString(),
  };
}

/** The typed request of its JSON. */
export function fromRequestJson(json: OperatorRequestJson): StoredOperatorRequest {
  const requestedAt = new Date(json.requestedAt);
  return json.kind === "redrive"
    ? { id: json.id, kind: "redrive", position: Number(json.position), requestedAt }
    : { id: json.id, kind: "rebuild", requestedAt };
}
