/**
 * State and step types of the rollout controller (issue 5). Everything here is plain JSON-serialisable data so
 * that desired state, observations and steps can be journaled, diffed and replayed. Times are epoch milliseconds;
 * versions are int64 decimal strings exactly as in the canonical protobuf plain-object form.
 */
import type { ReplicaPhase } from "../fleet/backend.js";
import type { VersionStatus } from "../tfserving/model-status.js";

/** An int64 version number as an exact decimal string ("7", "-3", "9223372036854775807"). */
export type Version = string;

// ---------------------------------------------------------------------------------------------------------------
// Desired state: what the journal, the verdict store, the admission module and the operator say.

/**
 * Admission result of one version directory (the admission module's AdmissionKind). Only "complete" is ever
 * loaded; "pending" (still being copied) holds admission of older versions; "overdue" is recorded incomplete;
 * "duplicate", "refused" (e.g. a symlink escaping base_path) and "unchecked" are left alone.
 */
export type Admission = "complete" | "pending" | "overdue" | "duplicate" | "refused" | "unchecked";

export interface DiskVersion {
  version: Version;
  /** The child name inside base_path (`7`, `007`); quarantine renames exactly this entry. */
  dirName: string;
  admission: Admission;
}

export type VerdictKind = "candidate" | "promoted" | "rejected" | "skipped" | "incomplete";

/** Who decided: the daemon, an operator via the CLI (`cli:<user>`), or an operator's hand edit of models.config. */
export type Actor = string;

export interface VerdictRecord {
  verdict: VerdictKind;
  reason: string;
  at: number;
  by: Actor;
  /** For rejected versions: the name the directory was renamed to inside base_path, or "deleted". */
  quarantinedAs?: string;
}

export interface GateSummary {
  passed: boolean;
  reason: string;
  at: number;
}

/** A decision to take a version out: the failure path removes it from `specific`, quarantines it, rejects it. */
export interface Failure {
  reason: string;
  at: number;
  by: Actor;
  /**
   * Only an explicit rollback intent (an operator's, or the bake period's automatic one, actor "auto-rollback")
   * may quarantine a version that has served traffic (been promoted or labelled); for every other failure such a
   * version is rejected but its directory is left alone.
   */
  allowServing: boolean;
}

/** Per-version progress of a rollout, journaled by the executor as steps complete (see outcome.ts). */
export interface VersionProgress {
  /** When the load step that added the version to `specific` completed; the AVAILABLE deadline counts from it. */
  loadStartedAt?: number;
  gate?: GateSummary;
  failure?: Failure;
  /** Set by quarantine: the directory's new name inside base_path, or "deleted". */
  quarantinedAs?: string;
  /** Set by an operator retry: the number may be put back although TF Serving lists it as failed. */
  retried?: boolean;
  /** Set by request-approval: the held candidate waits for an operator's promote until `deadline`. */
  approval?: { requestedAt: number; deadline: number };
  /** Set by the canary step: a held candidate is labelled once (an operator may take the label off by hand). */
  canaryAt?: number;
}

export interface Pin {
  version: Version;
  reason?: string;
  by: Actor;
  at: number;
  /** Epoch ms after which the pin no longer holds. */
  expiresAt?: number;
}

export type Intent =
  | { id: string; by: Actor; at: number; kind: "promote"; version?: Version; skipGates?: boolean }
  | { id: string; by: Actor; at: number; kind: "rollback"; to?: Version; action?: QuarantineAction }
  | { id: string; by: Actor; at: number; kind: "pin"; version: Version; reason?: string; expiresAt?: number }
  | { id: string; by: Actor; at: number; kind: "unpin" }
  | { id: string; by: Actor; at: number; kind: "retry"; version: Version };

/** A model's `specific` policy and labels: the complete content the controller writes for one model. */
export interface ModelPolicy {
  /** Sorted ascending (numerically), no duplicates, never empty when written. */
  specific: Version[];
  labels: Record<string, Version>;
}

export interface InFlightStep {
  /** Journal id of the step's "begin" entry. */
  id: string;
  step: Step;
  startedAt: number;
}

/**
 * The part of the desired state the controller itself journals (folded by `applyOutcome` in outcome.ts).
 * Persisted by the state module; `disk` and `intents` come from elsewhere.
 */
export interface ControllerRecord {
  /** Latest verdict per version. */
  verdicts: Record<Version, VerdictRecord>;
  progress: Record<Version, VersionProgress>;
  pin?: Pin;
  /** The policy and labels the controller last wrote for this model; a different file means a hand edit. */
  lastWritten?: ModelPolicy;
  /** The version `stable` was last verified to resolve to (GetModelMetadata/Predict by label). */
  verified?: { version: Version; at: number };
  /** An operator rollback under way. */
  rollback?: { intentId: string; target: Version; reject: Version[]; action: QuarantineAction };
  /** An operator promotion under way. */
  promote?: { intentId: string; version: Version; skipGates: boolean };
  /** When retention last ran for this model (a reclaim step, even one that found nothing to delete). */
  retention?: { at: number };
  /**
   * A config step whose write landed but whose reload failed: models.config holds its policy, TF Serving does not.
   * Re-issued (no write, reload only) until a reload succeeds; dropped when the file is edited by hand meanwhile.
   */
  reloadPending?: ConfigStep;
}

export interface DesiredState extends ControllerRecord {
  model: string;
  /** Versions on disk (children of base_path TF Serving would parse as versions), from the admission module. */
  disk: DiskVersion[];
  /** Pending operator intents, oldest first. */
  intents: Intent[];
  /** The journaled step whose "begin" has no "done"/"failed" (after a crash). */
  inFlight?: InFlightStep;
  /** Fleet mode (docs/fleet.md): the fleet's records as read at the start of this pass. Absent: local mode. */
  fleet?: FleetView;
}

// ---------------------------------------------------------------------------------------------------------------
// Fleet mode: what the coordination backend says (src/fleet/backend.ts), digested for the pure planner.

export interface FleetReportView {
  phase: ReplicaPhase;
  reason: string;
  at: number;
}

export interface FleetRolloutView {
  version: Version;
  openedAt: number;
  decision?: { verdict: "promote" | "reject"; reason: string; at: number; by: Actor; override: boolean };
  /** Set once the rejected directory left the shared store (its new name, or "deleted"). */
  removed?: string;
  /** Each replica's latest report, by replica id. */
  reports: Record<string, FleetReportView>;
}

export type FleetPolicy = { kind: "all" } | { kind: "quorum"; quorum: number };

export interface FleetView {
  /** False while the coordination backend cannot be reached: nothing fleet-wide may change. */
  reachable: boolean;
  /** Why not, when unreachable. */
  reason?: string;
  /** This replica's id. */
  replica: string;
  /** Whether this replica coordinates the model now. */
  coordinator: boolean;
  /** The coordinator's replica id, when known. */
  coordinatorId?: string;
  /** Live members (lease alive); only `ready` ones vote. */
  members: { replica: string; ready: boolean }[];
  /** The model's rollouts, ascending by version. */
  rollouts: FleetRolloutView[];
  /** Load slots held now (replica, version). */
  slots: { replica: string; version: Version }[];
  maxLoading: number;
  policy: FleetPolicy;
}

// ---------------------------------------------------------------------------------------------------------------
// Observed state: what models.config and TF Serving say now.

export type ObservedPolicy =
  { kind: "specific"; versions: Version[] } | { kind: "latest"; numVersions: number } | { kind: "all" };

/** This model's entry in models.config as read now. */
export interface ObservedModelConfig {
  basePath: string;
  platform: string;
  policy: ObservedPolicy;
  labels: Record<string, Version>;
}

export type ObservedStatus =
  { kind: "reachable"; versions: VersionStatus[] } | { kind: "unreachable"; reason: string };

export interface ObservedState {
  /** Undefined when models.config has no entry for the model. */
  config: ObservedModelConfig | undefined;
  status: ObservedStatus;
  now: number;
}

// ---------------------------------------------------------------------------------------------------------------
// Steps.

export type QuarantineAction = "rename" | "delete";

export type WaitReason =
  | "unreachable"
  | "not-in-config"
  | "nothing-available"
  | "unloading"
  | "admission-pending"
  | "pinned"
  | "unsafe-config"
  | "target-missing"
  | "window"
  | "approval"
  | "fleet-unreachable"
  | "fleet-slot"
  | "fleet-verdict"
  | "fleet-removal";

/** Steps that write models.config (exactly `config` for this model) and send a reload. */
export type ConfigStep =
  | { kind: "adopt"; model: string; config: ModelPolicy; from: ObservedPolicy["kind"]; reason: string }
  | { kind: "load"; model: string; config: ModelPolicy; version: Version }
  | { kind: "promote"; model: string; config: ModelPolicy; version: Version; from?: Version }
  | { kind: "trim"; model: string; config: ModelPolicy; dropped: Version[] }
  | { kind: "rollback-config"; model: string; config: ModelPolicy; removed: Version[]; reason: string }
  /** Labels a held candidate (passed its gates, not yet promotable) with the canary label; `stable` untouched. */
  | { kind: "canary"; model: string; config: ModelPolicy; version: Version; label: string; reason: string };

/** Steps that talk to TF Serving without changing its config. */
export type ProbeStep =
  /** `fleet`: a fleet rollout's load; missing the deadline is reported to the fleet, not marked failed locally. */
  | { kind: "await-available"; model: string; version: Version; deadline: number; fleet?: true }
  /** `fleet`: a fleet candidate's gate; a failure is reported to the fleet, not marked failed locally. */
  | { kind: "gate"; model: string; version: Version; stable?: Version; fleet?: true }
  | { kind: "verify"; model: string; label: string; version: Version };

/** Bookkeeping steps: they only change the journal (verdicts, progress, pins, intents). */
export type RecordStep =
  | { kind: "admit"; model: string; candidate: Version; skipped: Version[] }
  | { kind: "record-verdict"; model: string; version: Version; verdict: VerdictKind; reason: string }
  /** `allowServing`: a fleet-wide operator rollback (an override reject decision) may take it off disk. */
  | { kind: "mark-failed"; model: string; version: Version; reason: string; allowServing?: true }
  | {
      kind: "accept-hand-edit";
      model: string;
      observed: ObservedModelConfig;
      previous: ModelPolicy;
      changes: string[];
      stableLabel: string;
    }
  | { kind: "set-pin"; model: string; pin: Pin | null; intentId?: string }
  | { kind: "clear-verdict"; model: string; version: Version; intentId: string; restoreFrom?: string }
  | {
      kind: "start-rollback";
      model: string;
      intentId: string;
      target: Version;
      reject: Version[];
      action: QuarantineAction;
      /** Who asked (the intent's actor): "auto-rollback" when a bake probe failed, `cli:<user>` for an operator. */
      by?: Actor;
    }
  | { kind: "start-promote"; model: string; intentId: string; version: Version; skipGates: boolean }
  /** The held candidate now waits for an operator's `tfs-rollout promote` (the approval_waiting event). */
  | { kind: "request-approval"; model: string; version: Version; deadline: number; reason: string }
  | { kind: "finish-intent"; model: string; intentId: string; outcome: "done" | "refused"; reason: string }
  | {
      kind: "abandon";
      model: string;
      inFlightId: string;
      reason: string;
      /** The abandoned config step's policy when models.config already holds it: the controller wrote it. */
      written?: ModelPolicy;
    };

/** Fleet mode: steps whose effect is a record in the coordination backend (one transaction each). */
export type FleetStep =
  | { kind: "fleet-open"; model: string; version: Version; reason: string }
  | { kind: "fleet-acquire-slot"; model: string; version: Version; max: number }
  | { kind: "fleet-report"; model: string; version: Version; phase: ReplicaPhase; reason: string }
  /** The slot goes back once this replica's own checking of the version ended (or the fleet decided). */
  | { kind: "fleet-release-slot"; model: string; version: Version; reason: string }
  | { kind: "fleet-decide"; model: string; version: Version; verdict: "promote" | "reject"; reason: string }
  | { kind: "fleet-mark-removed"; model: string; version: Version; as: string };

export type Step =
  | ConfigStep
  | ProbeStep
  | RecordStep
  | FleetStep
  | {
      kind: "quarantine";
      model: string;
      version: Version;
      basePath: string;
      dirName: string;
      action: QuarantineAction;
      /** For "rename": the new child name inside basePath (TF Serving ignores it). Deterministic, so a resumed
       * step finds its own earlier rename. */
      newName: string;
      reason: string;
    }
  | { kind: "wait"; model: string; reason: WaitReason; detail: string; until?: number }
  /**
   * Never planned: the bake period's health probe of `stable` (src/engine/bake.ts), journaled and reported as a
   * step event when it fails, just before its automatic rollback intent (actor "auto-rollback") is queued.
   */
  | {
      kind: "bake-probe";
      model: string;
      version: Version;
      label: string;
      until: number;
      rollbackTo?: Version;
    }
  /** Retention: deletes superseded promoted versions and old `.rejected-*` directories inside basePath. */
  | { kind: "reclaim"; model: string; basePath: string; entries: ReclaimEntry[]; reason: string };

export interface ReclaimEntry {
  /** The child name inside basePath: a version directory or a `.rejected-*` quarantine directory. */
  dirName: string;
  version: Version;
  what: "promoted" | "rejected";
  why: string;
}

export type StepKind = Step["kind"];

export interface PlanOptions {
  /** The label the controller moves (default "stable"). */
  stableLabel: string;
  /** Deadline for a loaded version to become AVAILABLE (default 10 min). */
  loadTimeoutMs: number;
  /** What quarantine does to a rejected version's directory by default (default "rename"). */
  rollbackAction: QuarantineAction;
  /** Promotion window facts at `now`, computed by the engine with its clock; absent: always open. */
  window?: WindowFacts;
  /** Manual approval of candidates; absent: not required. */
  approval?: ApprovalPolicy;
  /** Retention (opt-in); absent: nothing is ever reclaimed. */
  retention?: RetentionPolicy;
  /** Previous versions kept loaded after the bake period (default 1; 0 unloads the previous one). */
  keepPrevious?: number;
  /** Bake period after a verified promotion (default 0): at least the previous version stays loaded until it ends. */
  bakePeriodMs?: number;
}

export interface WindowFacts {
  /** Inside a promotion window and outside every freeze. */
  open: boolean;
  /** Why closed (or which window is open), for the wait's detail. */
  detail: string;
  /** When it opens next (epoch ms), when known. */
  opensAt?: number;
}

export interface ApprovalPolicy {
  required: boolean;
  /** How long a held candidate waits for `tfs-rollout promote`. */
  timeoutMs: number;
  onTimeout: "reject" | "promote";
}

export interface RetentionPolicy {
  /** Promoted versions kept on disk (the newest promoted ones). */
  keepPromoted: number;
  /** `.rejected-*` directories are deleted once rejected this long ago. */
  keepRejectedForMs: number;
  /** The latest scheduled retention run at or before `now` (epoch ms): due when the last run is older. */
  dueAt: number;
}

export const DEFAULT_PLAN_OPTIONS: PlanOptions = {
  stableLabel: "stable",
  loadTimeoutMs: 10 * 60 * 1000,
  rollbackAction: "rename",
};

export interface PlanResult {
  /** At most one step: the executor applies it and plans again. Empty means converged. */
  steps: Step[];
  /** Why, in one sentence, for logs and `tfs-rollout plan`. */
  reason: string;
  /** Set when the step resumes the in-flight step: the executor journals its outcome under this id. */
  resumes?: string;
}
