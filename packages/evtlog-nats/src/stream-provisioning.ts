import { ConfigurationError } from "@eventsourced/core";
import {
  DiscardPolicy,
  type JetStreamManager,
  RetentionPolicy,
  StorageType,
  type StreamConfig,
  type StreamInfo,
} from "@nats-io/jetstream";
import { ApiCode, jetStreamApiCode } from "./jetstream-api-codes.js";
import { SUBJECT_PREFIX_PATTERN } from "./subjects.js";

/** The JetStream stream that holds the events. */
export interface NatsStreamOptions {
  /** Stream name; default `"eventsourced"`. */
  readonly name?: string | undefined;
  /** Subjects are `<subjectPrefix>.<type>.<encoded id>`; default `"evts"`. */
  readonly subjectPrefix?: string | undefined;
  /** Storage of a stream we create, and the storage an existing stream must have when given; default `"file"`. */
  readonly storage?: "file" | "memory" | undefined;
  /** Replicas of a stream we create, and the count an existing stream must have when given; default 1. */
  readonly replicas?: number | undefined;
  /**
   * Accept an existing stream whose limits or retention can delete events (max age, bytes or messages with
   * discard-old, per-subject limits, interest or work-queue retention). Off by default: an event log that
   * silently loses events breaks every entity recovered from it.
   */
  readonly allowLossyLimits?: boolean | undefined;
}

/** The stream settings in effect after provisioning. */
export interface ResolvedStreamOptions {
  readonly name: string;
  readonly subjectPrefix: string;
  readonly storage: "file" | "memory" | undefined;
  readonly replicas: number | undefined;
  readonly allowLossyLimits: boolean;
}

/** The stream exists but cannot be used as an event log as configured; `problems` lists why. */
export class StreamConfigError extends ConfigurationError {
  constructor(
    readonly stream: string,
    readonly problems: readonly string[],
    key: string,
    options?: { cause?: unknown },
  ) {
    super(
      `JetStream stream ${JSON.stringify(stream)} cannot be used as an event log: ${problems.join("; ")}`,
      key,
      "server",
      options,
    );
  }
}

/**
 * The longest subject prefix. A subject is prefix, type (up to 100 characters) and encoded id (up to 1,536
 * for an id of `MAX_ID_BYTES`), and a protocol line holding it must stay within the server's 4 KiB
 * `max_control_line`; beyond that the server drops the connection instead of refusing the message.
 */
export const MAX_SUBJECT_PREFIX_LENGTH = 256;

/** Names of streams and KV buckets: letters, digits, `_` and `-`. */
export const NAME_PATTERN: RegExp = /^[A-Za-z0-9_-]+$/;

/** The longest stream name nats-server accepts (`JSMaxNameLen`). */
export const MAX_STREAM_NAME_LENGTH = 255;

/**
 * First subject tokens a stream must not capture: `_INBOX` carries every client's request/reply traffic
 * (JetStream API replies included), which a stream on `_INBOX.>` would store without limit.
 */
const RESERVED_FIRST_TOKENS: ReadonlySet<string> = new Set(["_INBOX"]);

/** Fills in defaults and validates names; throws `ConfigurationError` naming the bad key. */
export function resolveStreamOptions(options: NatsStreamOptions = {}): ResolvedStreamOptions {
  const name = options.name ?? "eventsourced";
  if (typeof name !== "string" || !NAME_PATTERN.test(name) || name.length > MAX_STREAM_NAME_LENGTH) {
    throw new ConfigurationError(
      `invalid stream name ${JSON.stringify(String(name).slice(0, 64))}: use letters, digits, "_" and "-", at most ${MAX_STREAM_NAME_LENGTH} characters`,
      "stream.name",
      "options",
    );
  }
  const subjectPrefix = options.subjectPrefix ?? "evts";
  if (
    typeof subjectPrefix !== "string" ||
    !SUBJECT_PREFIX_PATTERN.test(subjectPrefix) ||
    subjectPrefix.length > MAX_SUBJECT_PREFIX_LENGTH
  ) {
    throw new ConfigurationError(
      `invalid subject prefix ${JSON.stringify(String(subjectPrefix).slice(0, 64))}: dot-separated tokens of letters, digits, "_" and "-", at most ${MAX_SUBJECT_PREFIX_LENGTH} characters`,
      "stream.subjectPrefix",
      "options",
    );
  }
  const firstToken = subjectPrefix.split(".", 1)[0]!;
  if (RESERVED_FIRST_TOKENS.has(firstToken)) {
    throw new ConfigurationError(
      `invalid subject prefix ${JSON.stringify(subjectPrefix.slice(0, 64))}: ${firstToken} is reserved for request/reply inboxes; a stream there would store every reply`,
      "stream.subjectPrefix",
      "options",
    );
  }
  if (options.replicas !== undefined && !(Number.isInteger(options.replicas) && options.replicas >= 1)) {
    throw new ConfigurationError(
      `invalid replicas ${options.replicas}: a positive integer`,
      "stream.replicas",
      "options",
    );
  }
  if (options.storage !== undefined && options.storage !== "file" && options.storage !== "memory") {
    throw new ConfigurationError(
      `invalid storage ${JSON.stringify(options.storage)}: "file" or "memory"`,
      "stream.storage",
      "options",
    );
  }
  return {
    name,
    subjectPrefix,
    storage: options.storage,
    replicas: options.replicas,
    allowLossyLimits: options.allowLossyLimits ?? false,
  };
}

/**
 * Creates the stream when missing, otherwise checks that it captures `<prefix>.>`, has the requested storage
 * and replicas, and cannot drop events (unless `allowLossyLimits`). Safe to run from several processes at
 * once: a concurrent creator's stream is verified like any existing one.
 */
export async function provisionStream(
  jsm: JetStreamManager,
  options: ResolvedStreamOptions,
): Promise<StreamInfo> {
  const existing = await streamInfo(jsm, options.name);
  if (existing !== undefined) return verifyStream(existing, options);
  const config: Partial<StreamConfig> & { name: string } = {
    name: options.name,
    subjects: [`${options.subjectPrefix}.>`],
    retention: RetentionPolicy.Limits,
    storage: options.storage === "memory" ? StorageType.Memory : StorageType.File,
    num_replicas: options.replicas ?? 1,
    discard: DiscardPolicy.New,
    // Lets lastSeqNo and the pre-publish check read the last message without the JSON/base64 API path.
    allow_direct: true,
    description: "eventsourced event log: one message per persisted command",
  };
  try {
    return await jsm.streams.add(config);
  } catch (err) {
    // Another process may have created it between our lookup and our create.
    const raced = await streamInfo(jsm, options.name);
    if (raced !== undefined) return verifyStream(raced, options);
    const code = jetStreamApiCode(err);
    if (code === ApiCode.SubjectOverlap) throw await overlapError(jsm, options, err);
    // The server refused the configuration itself (e.g. replicas > 1 on a server that is not clustered);
    // a 503 ("temporarily unavailable", a leader election) is not the configuration's fault.
    if (code !== undefined && (err as { status?: unknown }).status !== 503) {
      throw new StreamConfigError(
        options.name,
        [`the server refused to create it: ${err instanceof Error ? err.message : String(err)}`],
        "stream",
        { cause: err },
      );
    }
    throw err;
  }
}

/**
 * The server refuses a stream whose subjects overlap another stream's: each stream needs a subject prefix
 * of its own. Names the option and the stream(s) in the way.
 */
async function overlapError(
  jsm: JetStreamManager,
  options: ResolvedStreamOptions,
  cause: unknown,
): Promise<StreamConfigError> {
  const wanted = `${options.subjectPrefix}.>`;
  const others: string[] = [];
  try {
    for await (const name of jsm.streams.names(wanted)) if (name !== options.name) others.push(name);
  } catch {
    // The names are for the message only.
  }
  const holders =
    others.length === 0 ? "another stream" : `stream ${others.map((n) => JSON.stringify(n)).join(", ")}`;
  return new StreamConfigError(
    options.name,
    [
      `its subjects ${JSON.stringify(wanted)} overlap those of ${holders}; give each stream a subject prefix of its own (stream.subjectPrefix)`,
    ],
    "stream.subjectPrefix",
    { cause },
  );
}

async function streamInfo(jsm: JetStreamManager, name: string): Promise<StreamInfo | undefined> {
  try {
    return await jsm.streams.info(name);
  } catch (err) {
    if (jetStreamApiCode(err) === ApiCode.StreamNotFound) return undefined;
    throw err;
  }
}

function verifyStream(info: StreamInfo, options: ResolvedStreamOptions): StreamInfo {
  const config = info.config;
  const wanted = `${options.subjectPrefix}.>`;
  if (!(config.subjects ?? []).some((pattern) => subjectCovers(pattern, wanted))) {
    throw new StreamConfigError(
      options.name,
      [`its subjects ${JSON.stringify(config.subjects ?? [])} do not capture ${JSON.stringify(wanted)}`],
      "stream.subjectPrefix",
    );
  }
  if (options.storage !== undefined && config.storage !== options.storage) {
    throw new StreamConfigError(
      options.name,
      [`its storage is ${config.storage}, not ${options.storage}`],
      "stream.storage",
    );
  }
  if (options.replicas !== undefined && config.num_replicas !== options.replicas) {
    throw new StreamConfigError(
      options.name,
      [`it has ${config.num_replicas} replicas, not ${options.replicas}`],
      "stream.replicas",
    );
  }
  const lossy = lossyLimits(config);
  if (lossy.length > 0 && !options.allowLossyLimits) {
    throw new StreamConfigError(
      options.name,
      [...lossy, "pass stream.allowLossyLimits: true to use it anyway"],
      "stream.allowLossyLimits",
    );
  }
  return info;
}

/** Why a stream with `config` could delete stored events without anyone asking; empty when it cannot. */
export function lossyLimits(config: Partial<StreamConfig>): string[] {
  const problems: string[] = [];
  if (config.retention !== undefined && config.retention !== RetentionPolicy.Limits) {
    problems.push(`retention is ${config.retention} (messages are removed once consumed), not limits`);
  }
  // max_age expires messages whatever the discard policy.
  if (isSet(config.max_age)) problems.push("max_age is set (old events expire)");
  // With discard-new, a full stream refuses new messages (the persist fails) instead of dropping old ones.
  if (config.discard !== DiscardPolicy.New) {
    const discard = `discard ${config.discard ?? "old"}`;
    if (isSet(config.max_bytes)) problems.push(`max_bytes is set with ${discard}`);
    if (isSet(config.max_msgs)) problems.push(`max_msgs is set with ${discard}`);
  }
  if (isSet(config.max_msgs_per_subject)) {
    // On nats-server 2.9 the per-subject limit always discards the oldest message of the subject.
    problems.push("max_msgs_per_subject is set (it drops an entity's oldest events)");
  }
  return problems;
}

function isSet(limit: number | undefined): boolean {
  return limit !== undefined && limit > 0;
}

/** Whether every subject matching `subject` (which may end in `>`) is captured by the stream `pattern`. */
function subjectCovers(pattern: string, subject: string): boolean {
  const p = pattern.split(".");
  const s = subject.split(".");
  for (let i = 0; i < p.length; i++) {
    if (p[i] === ">") return true;
    if (i >= s.length) return false;
    if (s[i] === ">") return false;
    if (p[i] !== "*" && p[i] !== s[i]) return false;
  }
  return p.length === s.length;
}
