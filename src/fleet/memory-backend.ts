/**
 * An in-process fleet for tests: one `MemoryFleet` holds the records etcd would hold, and `replica(id)` gives each
 * replica its `FleetBackend` view with etcd's semantics (members and slots on a lease, one election per model,
 * transactions, watches). `kill(id)` is a replica whose lease expired (its member, slots and candidacies vanish;
 * its own calls fail from then on, as a dead process makes none); `setReachable(false)` is etcd down for everyone.
 */
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
} from "./backend.js";
import {
  compareVersions,
  fleetIntentId,
  intentOrder,
  isUndecided,
  mayDecide,
  mayReplacePin,
} from "./records.js";

export interface MemoryFleetOptions {
  /** The clock for every `at` (default: the real one). */
  now?: () => Date;
}

type Listener = (model: string) => void;

interface ModelRecords {
  rollouts: Map<string, Omit<FleetRollout, "reports">>;
  /** version → replica → report */
  reports: Map<string, Map<string, FleetRollout["reports"][string]>>;
  slots: Map<string, LoadSlot>;
  intents: Map<string, FleetIntent>;
  pin?: FleetPin;
  /** Campaigners in the order they campaigned: the first live one leads (an etcd election by create revision). */
  candidates: string[];
}

export class MemoryFleet {
  private readonly models = new Map<string, ModelRecords>();
  private readonly members = new Map<string, FleetMember>();
  /** Replica ids whose lease is alive (started, not stopped or killed). */
  private readonly live = new Set<string>();
  private readonly dead = new Set<MemoryReplica>();
  readonly views = new Set<MemoryReplica>();
  /** Each watcher with the view that opened it: a killed or stopped replica hears nothing more. */
  private readonly watchers = new Set<{ view: MemoryReplica; listener: Listener }>();
  private down: { since: string } | undefined;
  readonly now: () => Date;

  constructor(options: MemoryFleetOptions = {}) {
    this.now = options.now ?? (() => new Date());
  }

  /** The view of replica `id`. A new view for an id that was killed is that replica restarted. */
  replica(id: string): FleetBackend {
    return new MemoryReplica(this, id);
  }

  /** The replica's lease expires: its member key, slots and candidacies go, and its later calls fail. */
  kill(id: string): void {
    this.leave(id);
    for (const view of this.views) if (view.replica === id) this.dead.add(view);
  }

  /** etcd (un)reachable for every replica at once. */
  setReachable(reachable: boolean): void {
    this.down = reachable ? undefined : { since: this.now().toISOString() };
  }

  get reachable(): boolean {
    return this.down === undefined;
  }

  // --- used by the replica views -------------------------------------------------------------------------------

  check(view: MemoryReplica): void {
    if (this.down)
      throw new FleetUnreachableError(`etcd unreachable (memory fleet set down at ${this.down.since})`);
    if (this.dead.has(view))
      throw new FleetUnreachableError(`replica ${view.replica} was killed: its lease is gone`);
  }

  health(view: MemoryReplica): FleetHealth {
    if (this.down) return { reachable: false, reason: `etcd unreachable since ${this.down.since}` };
    if (this.dead.has(view)) return { reachable: false, reason: `replica ${view.replica} was killed` };
    return { reachable: true };
  }

  join(id: string): void {
    this.live.add(id);
    this.members.set(id, { replica: id, joinedAt: this.stamp(), ready: false });
  }

  leave(id: string): void {
    if (!this.live.delete(id)) return;
    this.members.delete(id);
    for (const [model, records] of this.models) {
      const hadSlot = records.slots.delete(id);
      const wasCandidate = records.candidates.includes(id);
      records.candidates = records.candidates.filter((candidate) => candidate !== id);
      if (hadSlot || wasCandidate) this.changed(model);
    }
  }

  memberList(): FleetMember[] {
    return [...this.members.values()]
      .sort((a, b) => a.replica.localeCompare(b.replica))
      .map((m) => ({ ...m }));
  }

  setMember(id: string, ready: boolean): void {
    const member = this.members.get(id);
    if (member) member.ready = ready;
  }

  records(model: string): ModelRecords {
    let records = this.models.get(model);
    if (!records) {
      records = {
        rollouts: new Map(),
        reports: new Map(),
        slots: new Map(),
        intents: new Map(),
        candidates: [],
      };
      this.models.set(model, records);
    }
    return records;
  }

  rolloutList(model: string): FleetRollout[] {
    const records = this.records(model);
    return [...records.rollouts.values()]
      .sort((a, b) => compareVersions(a.version, b.version))
      .map((rollout) =>
        structuredClone({
          ...rollout,
          reports: Object.fromEntries(records.reports.get(rollout.version) ?? []),
        }),
      );
  }

  stamp(): string {
    return this.now().toISOString();
  }

  subscribe(view: MemoryReplica, listener: Listener): () => void {
    const watcher = { view, listener };
    this.watchers.add(watcher);
    return () => this.watchers.delete(watcher);
  }

  /** Tells the watchers, asynchronously as an etcd watch would. */
  changed(model: string): void {
    for (const watcher of this.watchers) {
      setImmediate(() => {
        const { view, listener } = watcher;
        if (this.watchers.has(watcher) && !this.down && !this.dead.has(view) && this.views.has(view))
          listener(model);
      });
    }
  }
}

class MemoryReplica implements FleetBackend {
  private started = false;

  constructor(
    private readonly fleet: MemoryFleet,
    readonly replica: string,
  ) {
    fleet.views.add(this);
  }

  private check(): void {
    this.fleet.check(this);
    if (!this.started) throw new Error(`fleet replica ${this.replica}: call start() first`);
  }

  start(): Promise<void> {
    this.fleet.check(this);
    if (!this.started) {
      this.fleet.join(this.replica);
      this.started = true;
    }
    return Promise.resolve();
  }

  stop(): Promise<void> {
    // Unreachable etcd cannot revoke, but the lease expires anyway: the end is the same.
    if (this.started) this.fleet.leave(this.replica);
    this.started = false;
    this.fleet.views.delete(this);
    return Promise.resolve();
  }

  health(): FleetHealth {
    return this.fleet.health(this);
  }

  members(): Promise<FleetMember[]> {
    return this.call(() => this.fleet.memberList());
  }

  setReady(ready: boolean): Promise<void> {
    return this.call(() => this.fleet.setMember(this.replica, ready));
  }

  isCoordinator(model: string): Promise<boolean> {
    return this.call(() => {
      const records = this.fleet.records(model);
      if (!records.candidates.includes(this.replica)) {
        records.candidates.push(this.replica);
        this.fleet.changed(model);
      }
      return records.candidates[0] === this.replica;
    });
  }

  coordinator(model: string): Promise<string | undefined> {
    return this.call(() => this.fleet.records(model).candidates[0]);
  }

  rollouts(model: string): Promise<FleetRollout[]> {
    return this.call(() => this.fleet.rolloutList(model));
  }

  openRollout(model: string, version: string): Promise<boolean> {
    return this.call(() => {
      const records = this.fleet.records(model);
      if (records.rollouts.has(version)) return false;
      if ([...records.rollouts.values()].some(isUndecided)) return false;
      records.rollouts.set(version, { model, version, openedAt: this.fleet.stamp(), openedBy: this.replica });
      this.fleet.changed(model);
      return true;
    });
  }

  report(model: string, version: string, phase: ReplicaPhase, reason: string): Promise<void> {
    return this.call(() => {
      const reports = this.fleet.records(model).reports;
      const byReplica = reports.get(version) ?? new Map();
      byReplica.set(this.replica, { replica: this.replica, phase, reason, at: this.fleet.stamp() });
      reports.set(version, byReplica);
      this.fleet.changed(model);
    });
  }

  decide(model: string, version: string, decision: Omit<FleetDecision, "at">): Promise<boolean> {
    return this.call(() => {
      const rollouts = this.fleet.records(model).rollouts;
      const existing = rollouts.get(version);
      if (!mayDecide(existing, decision)) return false;
      const at = this.fleet.stamp();
      const rollout = existing ?? { model, version, openedAt: at, openedBy: decision.by };
      rollouts.set(version, { ...rollout, decision: { ...decision, at } });
      this.fleet.changed(model);
      return true;
    });
  }

  markRemoved(model: string, version: string, as: string): Promise<boolean> {
    return this.call(() => {
      const rollouts = this.fleet.records(model).rollouts;
      const rollout = rollouts.get(version);
      if (!rollout || rollout.decision?.verdict !== "reject" || rollout.removed) return false;
      rollouts.set(version, { ...rollout, removed: { as, at: this.fleet.stamp(), by: this.replica } });
      this.fleet.changed(model);
      return true;
    });
  }

  acquireLoadSlot(model: string, version: string, max: number): Promise<boolean> {
    return this.call(() => {
      const slots = this.fleet.records(model).slots;
      const held = slots.get(this.replica);
      if (held?.version === version) return true;
      if (!held && slots.size >= max) return false;
      slots.set(this.replica, { replica: this.replica, version, at: this.fleet.stamp() });
      this.fleet.changed(model);
      return true;
    });
  }

  releaseLoadSlot(model: string): Promise<void> {
    return this.call(() => {
      if (this.fleet.records(model).slots.delete(this.replica)) this.fleet.changed(model);
    });
  }

  loadSlots(model: string): Promise<LoadSlot[]> {
    return this.call(() =>
      [...this.fleet.records(model).slots.values()]
        .sort((a, b) => a.replica.localeCompare(b.replica))
        .map((slot) => ({ ...slot })),
    );
  }

  putIntent(intent: Omit<FleetIntent, "id" | "at"> & { id?: string }): Promise<FleetIntent> {
    return this.call(() => {
      const intents = this.fleet.records(intent.model).intents;
      const id = fleetIntentId(intent.id);
      const existing = intents.get(id);
      if (existing) return structuredClone(existing);
      const stored: FleetIntent = { ...structuredClone(intent), id, at: this.fleet.stamp() };
      intents.set(id, stored);
      this.fleet.changed(intent.model);
      return structuredClone(stored);
    });
  }

  intents(model: string): Promise<FleetIntent[]> {
    return this.call(() =>
      [...this.fleet.records(model).intents.values()].sort(intentOrder).map((i) => structuredClone(i)),
    );
  }

  setPin(pin: FleetPin): Promise<boolean> {
    return this.call(() => {
      const records = this.fleet.records(pin.model);
      if (!mayReplacePin(records.pin, pin)) return false;
      records.pin = structuredClone(pin);
      this.fleet.changed(pin.model);
      return true;
    });
  }

  getPin(model: string): Promise<FleetPin | undefined> {
    return this.call(() => structuredClone(this.fleet.records(model).pin));
  }

  watch(onModel: (model: string) => void): Promise<Closable> {
    return this.call(() => {
      const unsubscribe = this.fleet.subscribe(this, onModel);
      return { close: () => Promise.resolve(void unsubscribe()) };
    });
  }

  private call<T>(body: () => T): Promise<T> {
    try {
      this.check();
      return Promise.resolve(body());
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
  }
}
