/**
 * The fleet backend on etcd v3 (the `etcd3` client): one lease per replica carries its member key, its load slots
 * and its election candidacies, so a dead replica drops out of all of them when the lease expires; every write that
 * must happen once is a transaction comparing revisions; reads of several keys are one range. The per-model
 * election is etcd's recipe (the one the client's `election().campaign()` runs: create `election/<model>/<lease>`
 * if absent, the oldest key leads) on the replica's own lease instead of a lease per campaign.
 *
 * Every call has a deadline; an error from etcd becomes FleetUnreachableError and flips `health()`, which a later
 * successful call or lease keep-alive flips back. A lost lease (etcd away longer than its TTL) is re-joined by
 * itself: new lease, member key, and candidacies again on the next `isCoordinator`.
 */
import { readFile } from "node:fs/promises";
import { hostname } from "node:os";
import { ConsecutiveBreaker, ExponentialBackoff, circuitBreaker, handleWhen, retry } from "cockatiel";
import {
  Etcd3,
  Range,
  isRecoverableError,
  type IKeyValue,
  type IOptions,
  type IRangeResponse,
  type Lease,
} from "etcd3";
import {
  FleetUnreachableError,
  type Closable,
  type FleetBackend,
  type FleetDecision,
  type FleetHealth,
  type FleetIntent,
  type FleetMember,
  type FleetPin,
  type FleetRollout,
  type LoadSlot,
  type ReplicaPhase,
  type ReplicaReport,
} from "./backend.js";
import { DEFAULT_PREFIX, FleetKeys, keySegment } from "./etcd-keys.js";
import {
  compareVersions,
  fleetIntentId,
  intentOrder,
  isUndecided,
  mayDecide,
  mayReplacePin,
} from "./records.js";

export interface EtcdFleetOptions {
  /** `host:port` (or `https://host:port`) of the etcd members. */
  endpoints: string[];
  /** Key prefix of this fleet (default `/tfs-rollout/`): fleets sharing one etcd never see each other. */
  prefix?: string;
  /** This replica's id, unique in the fleet (default: the host name). */
  replica?: string;
  /** Lease TTL in seconds (default 10): how long a dead replica keeps its member key, slots and elections. */
  leaseTtlSeconds?: number;
  /** Connect deadline in ms (default 5000). */
  dialTimeoutMs?: number;
  /** Deadline of every call in ms (default 5000). */
  callTimeoutMs?: number;
  /** PEM file paths: the CA that signed etcd's certificate, and this client's certificate and key (mutual TLS). */
  tls?: { ca?: string; cert?: string; key?: string };
  now?: () => Date;
}

type Stored<T> = { value: T; modRevision: string } | undefined;
type StoredRollout = Omit<FleetRollout, "reports">;

/** Reads the TLS files and returns a fleet backend that joins on `start()`. */
export async function openEtcdFleet(options: EtcdFleetOptions): Promise<EtcdFleet> {
  const tls = options.tls;
  const credentials =
    tls && (tls.ca || tls.cert || tls.key)
      ? {
          rootCertificate: await readPem("tls.ca", tls.ca),
          ...(tls.cert ? { certChain: await readPem("tls.cert", tls.cert) } : {}),
          ...(tls.key ? { privateKey: await readPem("tls.key", tls.key) } : {}),
        }
      : undefined;
  if (credentials && Boolean(credentials.certChain) !== Boolean(credentials.privateKey))
    throw new Error("etcd TLS: tls.cert and tls.key go together (client certificate and its key)");
  return new EtcdFleet(options, credentials);
}

async function readPem(what: string, path: string | undefined): Promise<Buffer> {
  if (!path) throw new Error(`etcd TLS: ${what} is required when TLS is configured`);
  try {
    return await readFile(path);
  } catch (error) {
    throw new Error(`etcd TLS: cannot read ${what} ${path}: ${(error as Error).message}`, { cause: error });
  }
}

export class EtcdFleet implements FleetBackend {
  readonly replica: string;
  private readonly keys: FleetKeys;
  private readonly ttl: number;
  private readonly now: () => Date;
  private readonly client: Etcd3;
  private lease: { lease: Lease; id: string } | undefined;
  private joining: Promise<void> | undefined;
  private rejoinTimer: NodeJS.Timeout | undefined;
  private started = false;
  private ready = false;
  private joinedAt = "";
  /** Models this replica campaigned for on its current lease. */
  private readonly campaigned = new Set<string>();
  private readonly watchers = new Set<Closable>();
  private state: FleetHealth = { reachable: true };
  private downSince: string | undefined;

  constructor(options: EtcdFleetOptions, credentials?: IOptions["credentials"]) {
    if (options.endpoints.length === 0) throw new Error("etcd fleet: no endpoints");
    this.replica = keySegment("replica id", options.replica ?? hostname());
    this.keys = new FleetKeys(options.prefix ?? DEFAULT_PREFIX);
    this.ttl = options.leaseTtlSeconds ?? 10;
    this.now = options.now ?? (() => new Date());
    const callTimeoutMs = options.callTimeoutMs ?? 5000;
    this.client = new Etcd3({
      hosts: options.endpoints,
      ...(credentials ? { credentials } : {}),
      dialTimeout: options.dialTimeoutMs ?? 5000,
      // Streams (watch, keep-alive) live on; every unary call gets a deadline.
      defaultCallOptions: (context) => (context.isStream ? {} : { deadline: Date.now() + callTimeoutMs }),
      faultHandling: {
        // Each retry goes to another member: a dead member of three costs one fast failure, then its breaker opens.
        global: retry(handleWhen(isRecoverableError), { maxAttempts: options.endpoints.length }),
        host: () =>
          circuitBreaker(handleWhen(isRecoverableError), {
            halfOpenAfter: 1000,
            breaker: new ConsecutiveBreaker(3),
          }),
        watchBackoff: new ExponentialBackoff({ initialDelay: 100, maxDelay: 2000 }).next(),
      },
    });
  }

  // --- lifecycle ----------------------------------------------------------------------------------------------

  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    this.joinedAt = this.stamp();
    await this.ensureJoined();
  }

  async stop(): Promise<void> {
    this.started = false;
    clearTimeout(this.rejoinTimer);
    await Promise.all([...this.watchers].map((w) => w.close().catch(() => undefined)));
    const held = this.lease;
    this.lease = undefined;
    if (held) await held.lease.revoke().catch(() => undefined);
    this.client.close();
  }

  /** Drops the connection without revoking the lease, as a killed process does (tests: the lease must expire). */
  abandon(): void {
    this.started = false;
    clearTimeout(this.rejoinTimer);
    this.lease?.lease.release();
    this.lease = undefined;
    this.client.close();
  }

  health(): FleetHealth {
    return { ...this.state };
  }

  /** The etcd lease id this replica holds now (decimal), undefined while it has none (lost, not yet re-joined). */
  get currentLease(): string | undefined {
    return this.lease?.id;
  }

  private ensureJoined(): Promise<void> {
    if (!this.started) return Promise.reject(new Error(`fleet replica ${this.replica}: call start() first`));
    if (this.lease) return Promise.resolve();
    this.joining ??= this.join().finally(() => (this.joining = undefined));
    return this.joining;
  }

  /** Takes a new lease and writes the member key on it; candidacies are renewed by `isCoordinator`. */
  private async join(): Promise<void> {
    const lease = this.client.lease(this.ttl);
    lease.on("lost", (error) => this.leaseLost(lease, error));
    lease.on("keepaliveSucceeded", () => this.reachable());
    lease.on("keepaliveFailed", (error) => this.unreachable(error));
    let id: string;
    try {
      id = await this.call(lease.grant());
    } catch (error) {
      lease.release();
      throw error;
    }
    this.campaigned.clear();
    this.lease = { lease, id };
    try {
      await this.putMember();
    } catch (error) {
      // A lease without its member key would be a replica nobody counts: join again on the next call.
      this.lease = undefined;
      void lease.revoke().catch(() => undefined);
      throw error;
    }
  }

  private leaseLost(lease: Lease, error: Error): void {
    if (this.lease?.lease !== lease) return;
    this.lease = undefined;
    this.unreachable(error);
    // The old lease may still live on in etcd (it was unreachable, not expired): revoking it drops stale keys.
    void lease.revoke().catch(() => undefined);
    this.scheduleRejoin();
  }

  private scheduleRejoin(): void {
    if (!this.started) return;
    clearTimeout(this.rejoinTimer);
    this.rejoinTimer = setTimeout(() => {
      this.ensureJoined().catch(() => this.scheduleRejoin());
    }, 1000);
    this.rejoinTimer.unref();
  }

  private async leaseId(): Promise<string> {
    await this.ensureJoined();
    if (!this.lease) throw new FleetUnreachableError(`etcd: replica ${this.replica} has no lease`);
    return this.lease.id;
  }

  private putMember(): Promise<unknown> {
    const member: FleetMember = { replica: this.replica, joinedAt: this.joinedAt, ready: this.ready };
    return this.leasedPut(this.keys.member(this.replica), member);
  }

  private async leasedPut(key: string, value: unknown): Promise<unknown> {
    const id = await this.leaseId();
    return this.call(this.client.put(key).value(JSON.stringify(value)).lease(id).exec());
  }

  // --- membership and elections -------------------------------------------------------------------------------

  async members(): Promise<FleetMember[]> {
    const found = await this.range<FleetMember>(this.keys.members());
    return found.values.sort((a, b) => a.replica.localeCompare(b.replica));
  }

  async setReady(ready: boolean): Promise<void> {
    this.ready = ready;
    await this.putMember();
  }

  async isCoordinator(model: string): Promise<boolean> {
    const prefix = this.keys.election(keySegment("model name", model));
    const id = await this.leaseId();
    const mine = `${prefix}${id}`;
    if (!this.campaigned.has(model)) {
      await this.call(
        this.client
          .if(mine, "Create", "==", 0)
          .then(this.client.put(mine).value(this.replica).lease(id))
          .commit(),
      );
      this.campaigned.add(model);
    }
    const leader = await this.leader(prefix);
    return leader?.key.toString() === mine;
  }

  async coordinator(model: string): Promise<string | undefined> {
    return (await this.leader(this.keys.election(model)))?.value.toString();
  }

  private async leader(prefix: string): Promise<IKeyValue | undefined> {
    const found = await this.call(
      this.client.getAll().prefix(prefix).sort("Create", "Ascend").limit(1).exec(),
    );
    return found.kvs[0];
  }

  // --- rollouts -----------------------------------------------------------------------------------------------

  async rollouts(model: string): Promise<FleetRollout[]> {
    const rollouts = await this.range<StoredRollout>(this.keys.rollouts(model));
    const reports = await this.range<ReplicaReport>(this.keys.reports(model), rollouts.revision);
    const byVersion = new Map<string, Record<string, ReplicaReport>>();
    for (const { key, value } of reports.entries) {
      const version = key.slice(this.keys.reports(model).length).split("/")[0]!;
      const forVersion = byVersion.get(version) ?? {};
      forVersion[value.replica] = value;
      byVersion.set(version, forVersion);
    }
    return rollouts.values
      .map((rollout) => ({ ...rollout, reports: byVersion.get(rollout.version) ?? {} }))
      .sort((a, b) => compareVersions(a.version, b.version));
  }

  async openRollout(model: string, version: string): Promise<boolean> {
    const prefix = this.keys.rollouts(keySegment("model name", model));
    const key = this.keys.rollout(model, keySegment("version", version));
    for (;;) {
      const existing = await this.range<StoredRollout>(prefix);
      if (existing.entries.some((e) => e.key === key) || existing.values.some(isUndecided)) return false;
      const rollout: StoredRollout = { model, version, openedAt: this.stamp(), openedBy: this.replica };
      // Nothing under the model's rollouts changed since the read: no other rollout opened meanwhile.
      if (
        await this.unchangedSince(
          prefix,
          existing.revision,
          this.client.put(key).value(JSON.stringify(rollout)),
        )
      )
        return true;
    }
  }

  async report(model: string, version: string, phase: ReplicaPhase, reason: string): Promise<void> {
    const report: ReplicaReport = { replica: this.replica, phase, reason, at: this.stamp() };
    const key = this.keys.report(
      keySegment("model name", model),
      keySegment("version", version),
      this.replica,
    );
    await this.call(this.client.put(key).value(JSON.stringify(report)).exec());
  }

  decide(model: string, version: string, decision: Omit<FleetDecision, "at">): Promise<boolean> {
    return this.updateOnce<StoredRollout>(this.keys.rollout(model, version), (existing) => {
      if (!mayDecide(existing, decision)) return undefined;
      const at = this.stamp();
      const rollout = existing ?? { model, version, openedAt: at, openedBy: decision.by };
      return { ...rollout, decision: { ...decision, at } };
    });
  }

  markRemoved(model: string, version: string, as: string): Promise<boolean> {
    return this.updateOnce<StoredRollout>(this.keys.rollout(model, version), (existing) => {
      if (!existing || existing.decision?.verdict !== "reject" || existing.removed) return undefined;
      return { ...existing, removed: { as, at: this.stamp(), by: this.replica } };
    });
  }

  // --- load slots ---------------------------------------------------------------------------------------------

  async acquireLoadSlot(model: string, version: string, max: number): Promise<boolean> {
    const prefix = this.keys.slots(keySegment("model name", model));
    const key = this.keys.slot(model, this.replica);
    for (;;) {
      const id = await this.leaseId();
      const held = await this.range<LoadSlot>(prefix);
      const mine = held.entries.find((e) => e.key === key);
      if (mine?.value.version === version && mine.lease === id) return true;
      if (!mine && held.entries.length >= max) return false;
      const slot: LoadSlot = { replica: this.replica, version, at: this.stamp() };
      // No slot was taken or changed since the count: at most `max` holders, whatever the race.
      if (
        await this.unchangedSince(
          prefix,
          held.revision,
          this.client.put(key).value(JSON.stringify(slot)).lease(id),
        )
      )
        return true;
    }
  }

  async releaseLoadSlot(model: string): Promise<void> {
    await this.call(this.client.delete().key(this.keys.slot(model, this.replica)).exec());
  }

  async loadSlots(model: string): Promise<LoadSlot[]> {
    const found = await this.range<LoadSlot>(this.keys.slots(model));
    return found.values.sort((a, b) => a.replica.localeCompare(b.replica));
  }

  // --- intents ------------------------------------------------------------------------------------------------

  async putIntent(intent: Omit<FleetIntent, "id" | "at"> & { id?: string }): Promise<FleetIntent> {
    const id = fleetIntentId(intent.id);
    const key = this.keys.intent(keySegment("model name", intent.model), id);
    const stored: FleetIntent = { ...intent, id, at: this.stamp() };
    const result = await this.call(
      this.client
        .if(key, "Create", "==", 0)
        .then(this.client.put(key).value(JSON.stringify(stored)))
        .else(this.client.get(key))
        .commit(),
    );
    if (result.succeeded) return stored;
    const kv = result.responses[0]?.response_range?.kvs[0];
    return kv ? (JSON.parse(kv.value.toString()) as FleetIntent) : stored;
  }

  async intents(model: string): Promise<FleetIntent[]> {
    return (await this.range<FleetIntent>(this.keys.intents(model))).values.sort(intentOrder);
  }

  setPin(pin: FleetPin): Promise<boolean> {
    const key = this.keys.pin(keySegment("model name", pin.model));
    return this.updateOnce<FleetPin>(key, (existing) => (mayReplacePin(existing, pin) ? pin : undefined));
  }

  async getPin(model: string): Promise<FleetPin | undefined> {
    return (await this.get<FleetPin>(this.keys.pin(keySegment("model name", model))))?.value;
  }

  // --- watch --------------------------------------------------------------------------------------------------

  async watch(onModel: (model: string) => void): Promise<Closable> {
    const watcher = await this.call(this.client.watch().prefix(this.keys.prefix).create());
    const fire = (kv: IKeyValue): void => {
      const model = this.keys.modelOf(kv.key.toString());
      if (model !== undefined) onModel(model);
    };
    watcher.on("put", fire);
    watcher.on("delete", fire);
    watcher.on("error", (error) => this.unreachable(error));
    watcher.on("connected", () => this.reachable());
    const closable: Closable = {
      close: async () => {
        this.watchers.delete(closable);
        await watcher.cancel().catch(() => undefined);
      },
    };
    this.watchers.add(closable);
    return closable;
  }

  // --- etcd plumbing ------------------------------------------------------------------------------------------

  /** Every key under `prefix` with its JSON value, and the revision the read saw. */
  private async range<T>(
    prefix: string,
    revision?: string,
  ): Promise<{ entries: { key: string; value: T; lease: string }[]; values: T[]; revision: string }> {
    const builder = this.client.getAll().prefix(prefix);
    if (revision !== undefined) builder.revision(revision);
    const response: IRangeResponse = await this.call(builder.exec());
    const entries = response.kvs.map((kv) => ({
      key: kv.key.toString(),
      value: JSON.parse(kv.value.toString()) as T,
      lease: kv.lease,
    }));
    return { entries, values: entries.map((e) => e.value), revision: response.header.revision };
  }

  /** Applies `write` only if no key under `prefix` was created or modified after `revision`. */
  private async unchangedSince(
    prefix: string,
    revision: string,
    write: { op(): Promise<unknown> },
  ): Promise<boolean> {
    const range = Range.prefix(prefix);
    const result = await this.call(
      this.client.kv.txn({
        compare: [
          {
            key: range.start,
            range_end: range.end,
            target: "Mod",
            result: "Less",
            mod_revision: (BigInt(revision) + 1n).toString(),
          },
        ],
        success: [(await write.op()) as never],
        failure: [],
      }),
    );
    return result.succeeded;
  }

  /**
   * Compare-and-swap loop on one JSON key: `next` says what to write given the current value (undefined: nothing,
   * return false); the write happens only if the key is still as read, else it is read again.
   */
  private async updateOnce<T>(
    key: string,
    next: (current: T | undefined) => T | undefined,
  ): Promise<boolean> {
    for (;;) {
      const current = await this.get<T>(key);
      const value = next(current?.value);
      if (value === undefined) return false;
      const result = await this.call(
        this.client
          .if(key, "Mod", "==", current?.modRevision ?? 0)
          .then(this.client.put(key).value(JSON.stringify(value)))
          .commit(),
      );
      if (result.succeeded) return true;
    }
  }

  private async get<T>(key: string): Promise<Stored<T>> {
    const response = await this.call(this.client.get(key).exec());
    const kv = response.kvs[0];
    return kv ? { value: JSON.parse(kv.value.toString()) as T, modRevision: kv.mod_revision } : undefined;
  }

  /** Runs one etcd call: its failure becomes FleetUnreachableError and flips health, its success flips it back. */
  private async call<T>(pending: Promise<T>): Promise<T> {
    try {
      const value = await pending;
      this.reachable();
      return value;
    } catch (error) {
      if (error instanceof FleetUnreachableError) throw error;
      this.unreachable(error);
      throw new FleetUnreachableError(`etcd unreachable: ${describe(error)}`, { cause: error });
    }
  }

  private reachable(): void {
    this.downSince = undefined;
    this.state = { reachable: true };
  }

  private unreachable(error: unknown): void {
    this.downSince ??= this.stamp();
    this.state = { reachable: false, reason: `${describe(error)} (since ${this.downSince})` };
  }

  private stamp(): string {
    return this.now().toISOString();
  }
}

function describe(error: unknown): string {
  if (error instanceof Error)
    return `${error.name === "Error" ? "" : `${error.constructor.name}: `}${error.message}`;
  return String(error);
}
