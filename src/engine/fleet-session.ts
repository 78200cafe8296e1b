/**
 * Fleet mode: this replica's session with the coordination backend (docs/fleet.md). Joins the fleet (lazily, so a
 * daemon that starts while etcd is down joins once it answers), turns the backend's watch into model passes,
 * builds each pass's FleetView, copies fleet-wide operator intents into the local intent queue under their own id
 * (the local machinery applies them), keeps the member's `ready` flag ("my stable is the fleet's" for every
 * model), and applies the fleet steps. Leaves the fleet on stop.
 */
import type { StepOutcome } from "../controller/outcome.js";
import { replicaReady } from "../controller/plan-fleet.js";
import type { FleetStep, FleetView } from "../controller/types.js";
import type { Closable, FleetBackend, FleetIntent } from "../fleet/backend.js";
import type { DaemonConfig } from "../daemon-config/types.js";
import { openEtcdFleet } from "../fleet/etcd-backend.js";
import { errorText } from "../gate/summary.js";
import { isActor } from "../state/records.js";
import type { Actor, IntentInput, IntentQueue } from "../state/store.js";
import type { EngineLogger } from "./logger.js";
import { observeFleet, unreachableView, type FleetSettings } from "./fleet-observe.js";
import { applyFleetStep, type FleetLink } from "./fleet-steps.js";
import { fleetAutoRollback, type FleetAutoRollback } from "./fleet-rollback.js";

/** While the backend is unreachable it is tried this often; the models that waited are enqueued once it answers. */
const RECOVERY_POLL_MS = 1000;

export class FleetSession implements FleetLink {
  private joined: Promise<void> | undefined;
  private watch: Closable | undefined;
  private enqueue: ((model: string) => void) | undefined;
  private stopped = false;
  /** Per model: whether this replica's stable is the fleet's (last pass). */
  private readonly readyByModel = new Map<string, boolean>();
  private announcedReady: boolean | undefined;
  /** Models whose last pass found the backend unreachable (no watch event will wake them). */
  private readonly unreachable = new Set<string>();
  private recovery: NodeJS.Timeout | undefined;
  /** Fleet intents older than this session are not replayed (docs/fleet.md: intents). */
  private readonly since: number;

  constructor(
    readonly backend: FleetBackend,
    private readonly settings: () => FleetSettings,
    private readonly intents: IntentQueue,
    private readonly log: EngineLogger,
    /** The wall clock: fleet intents carry wall-clock times. */
    wall: () => number = Date.now,
  ) {
    this.since = wall();
  }

  get replica(): string {
    return this.backend.replica;
  }

  /** Daemon mode: join now if etcd answers, and pass every model the fleet changes to `enqueue`. */
  async start(enqueue: (model: string) => void): Promise<void> {
    this.enqueue = enqueue;
    await this.join().catch((error: unknown) =>
      this.log.warn(
        { replica: this.replica, reason: errorText(error) },
        "cannot join the fleet yet; every model waits until the coordination backend answers",
      ),
    );
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.recovery);
    this.recovery = undefined;
    await this.watch?.close().catch(() => undefined);
    this.watch = undefined;
    await this.backend
      .stop()
      .catch((error: unknown) =>
        this.log.warn(
          { replica: this.replica, reason: errorText(error) },
          "could not leave the fleet cleanly",
        ),
      );
  }

  private join(): Promise<void> {
    if (this.stopped) return Promise.reject(new Error("the fleet session is stopped"));
    this.joined ??= (async () => {
      await this.backend.start();
      if (this.enqueue !== undefined) this.watch = await this.backend.watch(this.enqueue);
      this.log.info({ replica: this.replica }, `joined the fleet as ${this.replica}`);
    })().catch((error: unknown) => {
      this.joined = undefined;
      throw error;
    });
    return this.joined;
  }

  async observe(model: string, localStable: string | undefined): Promise<FleetView> {
    let view: FleetView;
    try {
      await this.join();
      view = await observeFleet(this.backend, model, this.settings());
    } catch (error) {
      view = unreachableView(this.replica, this.settings(), errorText(error));
    }
    if (!view.reachable) {
      this.awaitRecovery(model);
      return view;
    }
    await this.copyIntents(model).catch((error: unknown) =>
      this.log.warn({ model, reason: errorText(error) }, "could not copy the fleet's intents"),
    );
    await this.noteReady(model, replicaReady(view, localStable));
    return view;
  }

  private awaitRecovery(model: string): void {
    this.unreachable.add(model);
    if (this.recovery !== undefined || this.enqueue === undefined || this.stopped) return;
    this.recovery = setInterval(() => void this.probe(), RECOVERY_POLL_MS);
    this.recovery.unref();
  }

  private async probe(): Promise<void> {
    try {
      await this.join();
      await this.backend.members();
    } catch {
      return;
    }
    clearInterval(this.recovery);
    this.recovery = undefined;
    const models = [...this.unreachable];
    this.unreachable.clear();
    this.log.info({ replica: this.replica }, "the fleet's coordination backend answers again");
    for (const model of models) this.enqueue?.(model);
  }

  apply(step: FleetStep): Promise<StepOutcome> {
    return applyFleetStep(this.backend, step);
  }

  async autoRollback(request: FleetAutoRollback): Promise<FleetIntent> {
    await this.join();
    return fleetAutoRollback(this.backend, request);
  }

  /**
   * Fleet intents this replica has not seen go into its local queue under the same id, exactly once: those issued
   * since this session started, and the fleet's pin state (the last fleet-wide pin or unpin, however old), so a
   * replica that was down when it was issued, or is new, ends up pinned (or unpinned) like the rest.
   */
  private async copyIntents(model: string): Promise<void> {
    const [all, pin] = await Promise.all([this.backend.intents(model), this.backend.getPin(model)]);
    const fleet = all.filter((i) => Date.parse(i.at) >= this.since);
    if (pin !== undefined && !fleet.some((i) => i.id === pin.id)) fleet.unshift(pin);
    if (fleet.length === 0) return;
    const pending = new Set((await this.intents.pending(model)).map((i) => i.id));
    for (const intent of fleet) {
      if (pending.has(intent.id) || (await this.intents.consumed(model, intent.id)) !== undefined) continue;
      await this.intents.put(localIntent(intent));
      this.log.info(
        { model, intent: intent.id, kind: intent.kind },
        `fleet intent ${intent.kind} by ${intent.by}`,
      );
    }
  }

  private async noteReady(model: string, ready: boolean): Promise<void> {
    this.readyByModel.set(model, ready);
    const all = [...this.readyByModel.values()].every(Boolean);
    if (all === this.announcedReady) return;
    try {
      await this.backend.setReady(all);
      this.announcedReady = all;
    } catch (error) {
      this.log.warn({ reason: errorText(error) }, "could not update this replica's ready flag");
    }
  }

  /** Models no longer managed do not hold the ready flag back. */
  forget(model: string): void {
    this.readyByModel.delete(model);
  }
}

/** The local queue's form; an actor the local queue would refuse (a fleet id) is recorded as the CLI's. */
function localIntent(intent: FleetIntent): IntentInput {
  const by: Actor = isActor(intent.by) ? intent.by : `cli:${intent.by.replace(/\s+/g, "_")}`;
  return { id: intent.id, model: intent.model, kind: intent.kind, args: intent.args, by, at: intent.at };
}

/** The fleet settings plan() reads, from the daemon config in force. */
export function fleetSettings(config: DaemonConfig): FleetSettings {
  const { fleet } = config.coordination;
  return {
    maxLoading: fleet.max_loading,
    policy: fleet.policy === "quorum" ? { kind: "quorum", quorum: fleet.quorum ?? 1 } : { kind: "all" },
  };
}

/**
 * The configured coordination backend: undefined for `backend: local`, else an etcd client that joins on start.
 * `replica` overrides the configured id (operator commands join under their own, never as the daemon).
 */
export async function openConfiguredFleet(
  config: DaemonConfig,
  replica?: string,
): Promise<FleetBackend | undefined> {
  const { backend, etcd } = config.coordination;
  if (backend !== "etcd") return undefined;
  return openEtcdFleet({
    endpoints: etcd.endpoints,
    prefix: etcd.prefix,
    leaseTtlSeconds: Math.max(1, Math.ceil(etcd.lease_ttl / 1000)),
    dialTimeoutMs: etcd.dial_timeout,
    ...(etcd.tls ? { tls: etcd.tls } : {}),
    ...((replica ?? config.coordination.replica) === undefined
      ? {}
      : { replica: replica ?? config.coordination.replica }),
  });
}
