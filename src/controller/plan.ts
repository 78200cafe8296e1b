/**
 * The rollout controller's pure core: `plan(desired, observed, options) → { steps, reason }`.
 *
 * Architecture (issue 5). Per model, the DESIRED state (versions on disk with their admission result, verdicts,
 * per-version rollout progress, the operator's pin and intents, the journaled step in flight) and the OBSERVED
 * state (this model's entry in models.config, TF Serving's GetModelStatus or "unreachable", and `now`) go into
 * plan(), which returns the ONE next step and why. plan() does no I/O and reads no clock. The daemon loop is:
 *
 *   observe → plan → (empty: converged) | journal "begin" → executor applies the step idempotently
 *           → journal "done"/"failed" → applyOutcome() folds the outcome into the ControllerRecord → repeat
 *
 * Watch events, cron ticks, SIGHUP and CLI intents only enqueue the model; a crash at any point is recovered by
 * observing again and planning from journal + observation: the in-flight step is resumed when it is still safe
 * (every step is idempotent: config steps carry the COMPLETE policy+labels for the model, so the executor edits the
 * file to exactly that, writes only if different, and reloads) and abandoned otherwise, and re-planning reverts or
 * continues from what is actually there.
 *
 * Order of concerns in one plan (the first that applies decides):
 *  1. TF Serving unreachable, or the model gone from models.config → wait (never guess, never delete).
 *  2. A step in flight (after a crash): a config step or quarantine is resumed if still safe (a config step the file
 *     already holds counts as written), else abandoned; probes (await, gate, verify) are abandoned and re-planned;
 *     bookkeeping steps are resumed (most of them journal no "begin": their one "done" entry is the whole step).
 *     A config step whose write landed but whose reload failed is issued again (it writes nothing and reloads)
 *     while models.config still holds its policy.
 *  3. models.config differs from what the controller last wrote → accept-hand-edit: an operator's edit is intent
 *     (manual promotion or pin), adopted and reported, never undone.
 *  4. Adoption: `latest`/`all`, or no `stable` label → adopt (specific = what serves now, `stable` kept or set on
 *     the newest AVAILABLE version); nothing AVAILABLE yet → wait.
 *  5. The oldest operator intent: pin/unpin/retry are recorded at once; promote and rollback are validated
 *     (refused with a reason, or started) and then driven by 6 and 7.
 *  6. Failure path of versions marked failed (failed gate, END, deadline, operator rollback): if `stable` is one of
 *     them, first move it back (7); then rollback-config (remove them from specific; never empty), quarantine
 *     (rename to `.rejected-<v>-<ts>` inside base_path, or delete; automatically only for a failed new
 *     candidate, otherwise only when an operator rollback names the version), record-verdict rejected.
 *  7. The target that should become `stable`: an operator rollback/promotion under way, else the pin, else the
 *     candidate: load (labels unchanged) → await-available (deadline; END or timeout fail it) → gate (not for
 *     rollback targets or skipped gates) → promote (move `stable`, previous stable stays listed) → verify (stable
 *     resolves to it). A candidate waits at promote while a pin holds.
 *  8. Finished intents → finish-intent.
 *  9. After a verified promotion: trim (unload) versions older than the `keepPrevious` previous ones (default 1;
 *     during the bake period at least the previous stable stays loaded).
 * 10. Admission: a candidate left below stable (stable moved by hand) is skipped; overdue versions are recorded
 *     incomplete; the newest complete never-judged version above stable becomes the candidate, older never-judged
 *     ones are skipped; a newer version still being copied → wait.
 *
 * Retention (opt-in, plan-retention.ts) comes between 6 and 7: when a scheduled run is due and stable is verified,
 * one `reclaim` step deletes superseded promoted versions beyond the newest K and old `.rejected-*` directories.
 * A candidate that passed its gate while outside a promotion window, in a freeze or awaiting approval is held at
 * 7 (plan-window.ts): labelled `canary`, approval requested, then a `window`/`approval` wait with `until`.
 *
 * Invariants (also re-checked by checkConfigSafety before every write): every label names a version AVAILABLE
 * now, so loading and moving a label are always two reloads; no specific list is empty; `stable` is never removed
 * nor quarantined; a version that served is only quarantined on an explicit operator rollback; a failed number is
 * not put back while TF Serving holds it as failed (unless an operator retried it); a version still UNLOADING is
 * not put back (wait); a rollback target must be AVAILABLE again (deadline) before `stable` moves to it.
 *
 * Executor contract: run `checkConfigSafety` (config-rules.ts) on the whole edited config under the config-wide
 * lock before every write and reload; journal the step (or, when `resumes` is set, reuse that journal id); apply
 * it; fold the outcome with `applyOutcome` (outcome.ts: `ok`, `reason`, and `written` for a config step whose
 * reload failed after the write). `wait` steps are not journaled: the executor sleeps/backs off and plans again.
 *
 * Files: types.ts (state and step types), plan-context.ts (shared helpers), plan-recovery.ts (2, 3),
 * plan-adopt.ts (4), plan-intents.ts (5, 8), plan-failure.ts (6), plan-target.ts (7), plan-admission.ts (9, 10),
 * config-rules.ts (safety rules), outcome.ts (the fold), versions.ts (version helpers).
 */
import type { DesiredState, FleetView, ObservedState, PlanOptions, PlanResult } from "./types.js";
import { adopt } from "./plan-adopt.js";
import { admission, trim } from "./plan-admission.js";
import { waitFor, type Ctx, type Planner } from "./plan-context.js";
import { failurePath } from "./plan-failure.js";
import { finishIntent, startIntent } from "./plan-intents.js";
import { acceptHandEdit, resumeInFlight, retryReload } from "./plan-recovery.js";
import { targetPath } from "./plan-target.js";
import { retention } from "./plan-retention.js";
import { observedPolicy, samePolicy, statusMap } from "./versions.js";
import { isConfigStep } from "./plan-context.js";
import { fleetDecide, fleetFollow, fleetOpen, fleetRemoval, fleetUnreachableWait } from "./plan-fleet.js";

export { DEFAULT_PLAN_OPTIONS } from "./types.js";
export { isConfigStep } from "./plan-context.js";

export function plan(desired: DesiredState, observed: ObservedState, options: PlanOptions): PlanResult {
  const model = desired.model;
  if (observed.config === undefined) {
    return waitFor(model, "not-in-config", `model ${model} has no entry in models.config`);
  }
  const statuses = statusMap(observed.status);
  if (statuses === undefined) {
    const reason = observed.status.kind === "unreachable" ? observed.status.reason : "";
    return waitFor(
      model,
      "unreachable",
      `TF Serving is unreachable (${reason}); nothing is changed until it answers`,
    );
  }
  const current = observedPolicy(observed.config);
  const ctx: Ctx = {
    d: desired,
    o: observed,
    opts: options,
    model,
    config: observed.config,
    statuses,
    current,
    stable: observed.config.labels[options.stableLabel],
    disk: new Map(desired.disk.map((v) => [v.version, v])),
  };
  const planners = desired.fleet === undefined ? LOCAL_PLANNERS : fleetPlanners(desired.fleet);
  for (const planner of planners) {
    const result = planner(ctx);
    if (result !== undefined) return result;
  }
  return { steps: [], reason: `converged: ${options.stableLabel} is ${ctx.stable ?? "unset"}` };
}

const LOCAL_PLANNERS: Planner[] = [
  resumeInFlight,
  retryReload,
  acceptHandEdit,
  adopt,
  startIntent,
  failurePath,
  retention,
  targetPath,
  finishIntent,
  trim,
  admission,
];

/**
 * Fleet mode (plan-fleet.ts): the coordinator decides, every replica follows the fleet's records before its own
 * failure and target paths, only the coordinator removes directories, runs retention and opens rollouts (instead
 * of the local admission). While etcd is unreachable only a config step whose write landed is finished.
 */
function fleetPlanners(view: FleetView): Planner[] {
  if (!view.reachable) return [finishWrittenConfigStep, (ctx) => fleetUnreachableWait(ctx, view)];
  return [
    resumeInFlight,
    retryReload,
    acceptHandEdit,
    adopt,
    startIntent,
    fleetDecide,
    fleetFollow,
    failurePath,
    fleetRemoval,
    ...(view.coordinator ? [retention] : []),
    targetPath,
    finishIntent,
    trim,
    fleetOpen,
  ];
}

const finishWrittenConfigStep: Planner = (ctx) => {
  const resumed = resumeInFlight(ctx) ?? retryReload(ctx);
  const step = resumed?.steps[0];
  if (step === undefined || !isConfigStep(step) || ctx.current === undefined) return undefined;
  return samePolicy(ctx.current, step.config) ? resumed : undefined;
};
