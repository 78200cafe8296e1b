/**
 * Fleet mode (issue 11): many TF Serving replicas, each with its own tfs-rollout, one shared model store. The
 * replicas agree through a coordination engine (etcd v3 today; Kubernetes Leases would map onto the same calls,
 * see docs/fleet.md) behind this interface, never through a home-made consensus. Every call is one etcd
 * transaction or range read; nothing here decides anything: the pure planner does (src/controller/plan-fleet.ts),
 * from a `FleetView` the engine builds out of these records each pass.
 *
 * Key layout (etcd, under the fleet's prefix):
 *   members/<replica>                    FleetMember, bound to the replica's lease (gone when it dies)
 *   election/<model>/...                 etcd election per model: the leader is the model's coordinator
 *   rollouts/<model>/<version>           FleetRollout minus reports (opened by the coordinator, decided once)
 *   reports/<model>/<version>/<replica>  ReplicaReport (each replica writes only its own)
 *   slots/<model>/<replica>              LoadSlot, bound to the replica's lease (at most `max` per model)
 *   intents/<model>/<id>                 FleetIntent (an operator's command for the whole fleet)
 *   pins/<model>                         FleetPin: the last fleet-wide pin or unpin (a state, replayed on return)
 */

/** What a replica says about one fleet rollout, in the order it happens. */
export const REPLICA_PHASES = ["loading", "passed", "failed", "promoted", "unloaded"] as const;
export type ReplicaPhase = (typeof REPLICA_PHASES)[number];

export interface ReplicaReport {
  replica: string;
  phase: ReplicaPhase;
  reason: string;
  /** ISO 8601. */
  at: string;
}

export interface FleetDecision {
  verdict: "promote" | "reject";
  reason: string;
  at: string;
  /** The coordinator's replica id, or `cli:<user>` for an operator's fleet-wide promote/rollback. */
  by: string;
  /**
   * An operator's rollback of a version that served: replicas may move `stable` off it, and the coordinator may
   * take its directory off the shared store (otherwise only a never-promoted candidate's directory goes).
   */
  override?: boolean;
}

export interface FleetRollout {
  model: string;
  version: string;
  openedAt: string;
  /** Replica id of the coordinator that opened it. */
  openedBy: string;
  decision?: FleetDecision;
  /** Set once the rejected directory left the shared store: its new name inside base_path, or "deleted". */
  removed?: { as: string; at: string; by: string };
  /** Each replica's latest report, by replica id. */
  reports: Record<string, ReplicaReport>;
}

export interface FleetMember {
  replica: string;
  joinedAt: string;
  /** False until the replica converged on the fleet's verdicts (its stable is the fleet's): it does not vote yet. */
  ready: boolean;
}

export interface LoadSlot {
  replica: string;
  version: string;
  at: string;
}

export interface FleetIntent {
  id: string;
  model: string;
  kind: "promote" | "rollback" | "pin" | "unpin";
  args: Record<string, string | boolean | number>;
  by: string;
  at: string;
}

/**
 * The model's pin as a state, not only an event: the last fleet-wide pin or unpin intent. A replica that did not
 * apply that intent (down when it was issued, or new) applies it under the same id when it (re)joins.
 */
export type FleetPin = FleetIntent & { kind: "pin" | "unpin" };

export interface FleetHealth {
  reachable: boolean;
  /** Why not, when unreachable (the etcd error, and since when). */
  reason?: string;
}

export interface Closable {
  close(): Promise<void>;
}

/** Thrown by every call while the coordination engine cannot be reached: nothing may change meanwhile. */
export class FleetUnreachableError extends Error {
  override readonly name = "FleetUnreachableError";
}

export interface FleetBackend {
  /** This replica's id (unique in the fleet; default: the host name). */
  readonly replica: string;
  /** Joins the fleet: takes a lease, keeps it alive, writes members/<replica> (ready: false). */
  start(): Promise<void>;
  /** Leaves: revokes the lease (its member key, slots and elections go with it), closes the client. */
  stop(): Promise<void>;
  /** As last seen by a call or the lease keep-alive; never throws. */
  health(): FleetHealth;
  /** Live members (lease alive), sorted by replica id. */
  members(): Promise<FleetMember[]>;
  setReady(ready: boolean): Promise<void>;
  /**
   * Whether this replica is the model's coordinator now. The first call for a model campaigns (an etcd election
   * on a lease: whoever dies, the next campaigner takes over); later calls only read the leadership.
   */
  isCoordinator(model: string): Promise<boolean>;
  /** The current coordinator's replica id, if any. */
  coordinator(model: string): Promise<string | undefined>;
  /** Every rollout of the model with its reports, ascending by version number (int64 order). */
  rollouts(model: string): Promise<FleetRollout[]>;
  /** Opens a rollout of `version` if the model has no undecided one (one transaction). False otherwise. */
  openRollout(model: string, version: string): Promise<boolean>;
  /** Writes this replica's report on the rollout (replaces its previous one). */
  report(model: string, version: string, phase: ReplicaPhase, reason: string): Promise<void>;
  /**
   * Records the decision if the rollout is still undecided (or, with `override`, replaces a promote decision: an
   * operator's rollback). False when another decision is already there. A version the fleet never opened (one
   * promoted before fleet mode, rolled back fleet-wide) gets its rollout record created, decided, by this call.
   */
  decide(model: string, version: string, decision: Omit<FleetDecision, "at">): Promise<boolean>;
  /** Records that the rejected directory left the shared store; false if already recorded (or not rejected). */
  markRemoved(model: string, version: string, as: string): Promise<boolean>;
  /** Takes a load slot for `version` if fewer than `max` replicas hold one for the model. Idempotent. */
  acquireLoadSlot(model: string, version: string, max: number): Promise<boolean>;
  releaseLoadSlot(model: string): Promise<void>;
  loadSlots(model: string): Promise<LoadSlot[]>;
  /**
   * Stores the intent under its id (made up when absent; the local intent queue's id rule) unless that id exists:
   * then the stored intent is returned unchanged (a retried put is harmless).
   */
  putIntent(intent: Omit<FleetIntent, "id" | "at"> & { id?: string }): Promise<FleetIntent>;
  intents(model: string): Promise<FleetIntent[]>;
  /**
   * Records the model's pin state (`pins/<model>`) unless a newer pin or unpin is there (by `at`, then id: the
   * intents' order); the same intent again is harmless. False when a newer one stays.
   */
  setPin(pin: FleetPin): Promise<boolean>;
  /** The model's pin state: the last fleet-wide pin or unpin, if there ever was one. */
  getPin(model: string): Promise<FleetPin | undefined>;
  /** Calls `onModel` whenever anything of that model changes (rollouts, reports, slots, intents, election). */
  watch(onModel: (model: string) => void): Promise<Closable>;
}
