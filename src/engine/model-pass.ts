/**
 * One controller iteration for one model, under the model lock: observe (models.config, GetModelStatus, the
 * admission scan, the journaled record, pending intents) → plan() → if a step: journal "begin" (or reuse the id of
 * the in-flight step it resumes) → execute → fold with applyOutcome → journal "done"/"failed" carrying the new
 * record → consume the intent → mirror final verdicts into the CLI's verdict store → log one event (a new
 * candidate is mirrored right after it). `wait` and "converged" change nothing.
 */
import { randomUUID } from "node:crypto";
import { BasePathError } from "../admission/version-dirs.js";
import type { AdmissionScanner, ModelScan } from "../admission/scanner.js";
import { applyOutcome, controllerRecord } from "../controller/outcome.js";
import { plan } from "../controller/plan.js";
import type { ObservedState, PlanOptions, PlanResult, Step } from "../controller/types.js";
import type { ModelConfigView } from "../daemon-config/types.js";
import { errorText } from "../gate/summary.js";
import { loadModelServerConfigShared } from "../modelconfig/load.js";
import type { Actor, JsonValue, StateBackend } from "../state/store.js";
import {
  journalBegin,
  journalEnd,
  loadControllerState,
  mirrorVerdicts,
  repairVerdictMirror,
} from "./controller-state.js";
import { executeStep, type ExecutorDeps, type StepResult } from "./executor.js";
import { pendingIntents } from "./intents.js";
import { logStep, type EngineLogger, type StepEvent } from "./logger.js";
import {
  desiredState,
  diskVersions,
  findModel,
  observeStatus,
  observedModelConfig,
  admissionSettled,
} from "./observe.js";
import { StepAborted, StepInterrupted } from "./probe-steps.js";
import { crashPointForTests } from "./test-crash-hook.js";

export interface PassDeps extends ExecutorDeps {
  state: StateBackend;
  scanner: AdmissionScanner;
  log: EngineLogger;
  settings(model: string): ModelConfigView;
  planOptions(model: string): PlanOptions;
  /** Called after every admission scan (the watcher follows pending directories). */
  onScan?(model: string, scan: ModelScan): void;
  /** Who applies the steps, for the journal: "daemon", or `cli:<user>` when an operator command drives the pass. */
  actor?: Actor;
  /** Called after every applied step with the event just logged (metrics, webhooks, systemd STATUS subscribe). */
  onStep?(event: StepEvent): void;
}

export type PassResult =
  | { kind: "converged"; reason: string }
  | { kind: "wait"; step: Extract<Step, { kind: "wait" }>; reason: string; recheckInMs?: number }
  | { kind: "stepped"; step: Step; ok: boolean; reason: string }
  | { kind: "aborted"; reason: string }
  | { kind: "interrupted"; step: Step; reason: string };

/**
 * Steps that only change the controller's record: their one "done" entry is the whole step (a crash before it
 * leaves nothing to resume: the next pass plans the same step), so no "begin" entry (an fsync) is written first.
 */
const BOOKKEEPING: ReadonlySet<Step["kind"]> = new Set([
  "admit",
  "record-verdict",
  "mark-failed",
  "finish-intent",
  "request-approval",
  "accept-hand-edit",
  "set-pin",
  "start-rollback",
  "start-promote",
]);

export async function modelPass(deps: PassDeps, model: string): Promise<PassResult> {
  const actor: Actor = deps.actor ?? "daemon";
  return deps.state.locks.withModelLock(model, async () => {
    // Asked first, awaited below: TF Serving answers while the journal, models.config and the disk are read.
    const statusAnswer = observeStatus(deps.grpc, model);
    const { record, inFlight } = await loadControllerState(deps.state.journal, model);
    await repairVerdictMirror(deps.state.verdicts, model, record).catch((error: unknown) =>
      deps.log.warn(
        { model, reason: errorText(error) },
        "could not repair the verdict store from the journal",
      ),
    );
    const loaded = await loadModelServerConfigShared(deps.modelConfigPath);
    const config = observedModelConfig(findModel(loaded.message, model));
    const status = await statusAnswer;
    const now = deps.now();
    // Fleet mode: read before the intents, so fleet-wide operator intents copied into the queue are seen now.
    const fleet = await deps.fleet?.observe(model, config?.labels[deps.stableLabel]);
    const intents = await pendingIntents(deps.state.intents, model);
    let scan: ModelScan | undefined;
    if (config !== undefined) {
      try {
        const settled = admissionSettled(record, config.labels[deps.stableLabel], intents);
        scan = await deps.scanner.scan(model, config.basePath, now, { settled });
        deps.onScan?.(model, scan);
        for (const v of scan.newlyOverdue)
          deps.log.warn(
            { model, version: v.version, detail: v.detail },
            `version ${v.version} never completed`,
          );
      } catch (error) {
        if (!(error instanceof BasePathError)) throw error;
        deps.log.warn({ model, base_path: config.basePath, reason: error.message }, "cannot list base path");
      }
    }
    const desired = desiredState(model, record, diskVersions(scan), intents, inFlight);
    if (fleet !== undefined) desired.fleet = fleet;
    const observed: ObservedState = { config, status, now };
    const result: PlanResult = plan(desired, observed, deps.planOptions(model));
    const step = result.steps[0];
    if (step === undefined) return { kind: "converged", reason: result.reason };
    if (step.kind === "wait")
      return {
        kind: "wait",
        step,
        reason: result.reason,
        ...(scan?.recheckInMs === undefined ? {} : { recheckInMs: scan.recheckInMs }),
      };

    const id = step.kind === "abandon" ? step.inFlightId : (result.resumes ?? randomUUID());
    if (result.resumes === undefined && step.kind !== "abandon") {
      if (!BOOKKEEPING.has(step.kind)) await journalBegin(deps.state.journal, id, step, actor);
      crashPointForTests(step, "begin");
    }
    const started = deps.now();
    let applied: StepResult;
    try {
      applied = await executeStep(deps, step, { observed: config, desired, settings: deps.settings(model) });
    } catch (error) {
      if (error instanceof StepAborted) return { kind: "aborted", reason: error.message };
      if (error instanceof StepInterrupted) {
        // Closed without folding: the record stays as it was and plan() decides again once TF Serving answers.
        await journalEnd(deps.state.journal, id, step, { ok: false, reason: error.message }, record, actor);
        const event: StepEvent = {
          step,
          outcome: "interrupted",
          durationMs: deps.now() - started,
          reason: error.message,
        };
        logStep(deps.log, event);
        deps.onStep?.(event);
        return { kind: "interrupted", step, reason: error.message };
      }
      applied = { outcome: { ok: false, reason: errorText(error) } };
    }
    const { outcome } = applied;
    const folded = applyOutcome(desired, step, outcome, deps.now());
    const nextRecord = controllerRecord(folded.desired);
    await journalEnd(deps.state.journal, id, step, outcome, nextRecord, actor);
    crashPointForTests(step, "done");
    if (folded.consumedIntent !== undefined) {
      // A finishing step carries the intent's own verdict (done, or refused and why), not just "recorded".
      const consumed: JsonValue =
        step.kind === "finish-intent"
          ? { step: step.kind, ok: outcome.ok, outcome: step.outcome, reason: step.reason }
          : { step: step.kind, ok: outcome.ok, reason: outcome.reason };
      await deps.state.intents.markConsumed(model, folded.consumedIntent, actor, consumed);
    }
    if (step.kind === "clear-verdict") deps.scanner.forget(model, step.version);
    // The verdict store is the CLI's view (the journal entry above is the truth, and a restart repairs the store
    // from it). A final verdict (promoted, rejected, ...) is in it before its event is told, so whoever acts on the
    // event reads it there; a new candidate's admission is told first, off the detection path, and follows at once.
    const mirror = (): Promise<void> =>
      mirrorVerdicts(deps.state.verdicts, model, record.verdicts, nextRecord.verdicts).catch(
        (error: unknown) =>
          deps.log.warn(
            { model, reason: errorText(error) },
            "could not mirror verdicts into the verdict store",
          ),
      );
    const finalChanged = Object.entries(nextRecord.verdicts).some(
      ([v, r]) => r.verdict !== "candidate" && record.verdicts[v]?.verdict !== r.verdict,
    );
    if (finalChanged) await mirror();
    const event: StepEvent = {
      step,
      outcome: outcome.ok ? "ok" : "failed",
      durationMs: deps.now() - started,
      reason: outcome.reason,
      ...(applied.details ? { details: applied.details } : {}),
    };
    logStep(deps.log, event);
    deps.onStep?.(event);
    if (!finalChanged) await mirror();
    return { kind: "stepped", step, ok: outcome.ok, reason: outcome.reason };
  });
}
