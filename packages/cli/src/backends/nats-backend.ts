import { silentLogger } from "@eventsourced/core";
import { NatsEvtLog } from "@eventsourced/evtlog-nats";
import { ApiCode, connectNats, jetStreamApiCode } from "@eventsourced/evtlog-nats/internal";
import { NatsKvProjectionStore } from "@eventsourced/projections/nats";
import { NatsSnapshotStore } from "@eventsourced/snapshots/nats";
import { type JetStreamManager, jetstreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import type { CliConfig } from "../cli-config.js";
import { AdminCommandError } from "../cli-errors.js";
import { natsSnapshotBucket, natsSubjectPrefix } from "../config/evt-log-config.js";
import { redactUrl } from "../config/redact-url.js";
import { serverUnreachableError } from "../config/server-unreachable.js";
import {
  type AdminBackend,
  type AdminClusterStore,
  type AdminSnapshotStore,
  componentState,
  importCluster,
  type ListingEvtLog,
  type ListingProjectionStore,
  type SchemaComponent,
} from "./admin-backend.js";

const HINT =
  "start it with `nats-server -js` (JetStream is required) or give a reachable server with --url, NATS_URL or APP__EVT_LOG__NATS__URL";

/** Connects (without reconnecting forever: an operator's command should fail, not hang). */
export async function openNatsBackend(config: CliConfig): Promise<AdminBackend> {
  const nats = config.evtLog.nats;
  let nc: NatsConnection;
  try {
    nc = await connectNats({
      servers: nats.url,
      name: "eventsourced-cli",
      ...(nats.user === "" ? {} : { user: nats.user }),
      ...(nats.password === "" ? {} : { pass: nats.password }),
      ...(nats.token === "" ? {} : { token: nats.token }),
      ...(nats.credsFile === "" ? {} : { credsFile: nats.credsFile }),
    });
  } catch (error) {
    throw serverUnreachableError({
      server: "NATS",
      url: nats.url,
      error,
      secrets: [nats.password, nats.token],
      hint: HINT,
    });
  }
  return new NatsBackend(nc, await jetstreamManager(nc), config);
}

class NatsBackend implements AdminBackend {
  readonly where: string;
  readonly #nc: NatsConnection;
  readonly #jsm: JetStreamManager;
  readonly #nats: CliConfig["evtLog"]["nats"];
  readonly #projectionsBucket: string;
  readonly #closers: Array<() => Promise<void>> = [];

  constructor(nc: NatsConnection, jsm: JetStreamManager, config: CliConfig) {
    this.#nc = nc;
    this.#jsm = jsm;
    this.#nats = config.evtLog.nats;
    this.#projectionsBucket = config.projections.natsBucket;
    this.where = `NATS at ${redactUrl(this.#nats.url)}, stream ${this.#nats.stream}`;
  }

  async schemaStatus(): Promise<SchemaComponent[]> {
    const streams = [
      `stream:${this.#nats.stream}`,
      `kv:${natsSnapshotBucket(this.#nats)}`,
      `kv:${this.#projectionsBucket}`,
    ];
    const status: SchemaComponent[] = [];
    for (const component of streams) {
      const version = (await this.#exists(component)) ? 1 : 0;
      status.push({ component, version, expected: 1, state: componentState(version, 1) });
    }
    return status;
  }

  async migrate(): Promise<SchemaComponent[]> {
    const connection = this.#nc;
    const log = await NatsEvtLog.connect({
      connection,
      stream: { name: this.#nats.stream, subjectPrefix: natsSubjectPrefix(this.#nats) },
    });
    await log.close();
    await (await NatsSnapshotStore.create({ connection, bucket: natsSnapshotBucket(this.#nats) })).close();
    await NatsKvProjectionStore.create({ connection, bucket: this.#projectionsBucket });
    return this.schemaStatus();
  }

  async evtLog(): Promise<ListingEvtLog> {
    await this.#require(`stream:${this.#nats.stream}`, "event stream", "evtLog.nats.stream (--stream)");
    const log = await NatsEvtLog.connect({
      connection: this.#nc,
      stream: { name: this.#nats.stream, subjectPrefix: natsSubjectPrefix(this.#nats) },
      logger: silentLogger,
    });
    this.#closers.push(() => log.close());
    return log;
  }

  async snapshotStore(): Promise<AdminSnapshotStore> {
    const bucket = natsSnapshotBucket(this.#nats);
    await this.#require(`kv:${bucket}`, "snapshot bucket", "evtLog.nats.bucket");
    const store = await NatsSnapshotStore.create({ connection: this.#nc, bucket });
    this.#closers.push(() => store.close());
    return store;
  }

  async projectionStore(): Promise<ListingProjectionStore> {
    await this.#require(
      `kv:${this.#projectionsBucket}`,
      "projection bucket",
      "projections.natsBucket (APP__PROJECTIONS__NATS_BUCKET)",
    );
    return NatsKvProjectionStore.create({ connection: this.#nc, bucket: this.#projectionsBucket });
  }

  async clusterStore(bucketPrefix: string | undefined): Promise<AdminClusterStore> {
    const { inspectNatsClusterStore } = await importCluster(() => import("@eventsourced/cluster"));
    return inspectNatsClusterStore(this.#nc, { bucketPrefix });
  }

  async close(): Promise<void> {
    for (const close of this.#closers.splice(0).reverse()) await close().catch(() => {});
    if (!this.#nc.isClosed()) await this.#nc.close();
  }

  /** `stream:<name>` or `kv:<bucket>` (stored as stream `KV_<bucket>`). */
  async #exists(component: string): Promise<boolean> {
    const stream = component.startsWith("kv:") ? `KV_${component.slice(3)}` : component.slice(7);
    try {
      await this.#jsm.streams.info(stream);
      return true;
    } catch (err) {
      if (jetStreamApiCode(err) === ApiCode.StreamNotFound) return false;
      throw err;
    }
  }

  /** `configKey`: the config key naming it, for when the name, not the setup, is what is wrong. */
  async #require(component: string, what: string, configKey: string): Promise<void> {
    if (!(await this.#exists(component))) {
      throw new AdminCommandError(
        `the ${what} ${component.replace(/^[a-z]+:/, "")} does not exist (${this.where}): if the application uses another name, set ${configKey} (config file or env); otherwise run \`eventsourced schema migrate\``,
      );
    }
  }
}
