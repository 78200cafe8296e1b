/**
 * What rollback, promote, pin, unpin and retry share (issue 6): record the operator's intent, then DRIVE the
 * model's reconcile in this process (`engine.reconciler.runOnce`: the daemon's own modelPass, under the same
 * per-model and config-wide locks), so a command works with the daemon down and interleaves step by step with a
 * running one. The command ends when the controller has consumed the intent (done or refused) and the command's
 * goal holds, or at `--timeout`, saying what the model waits for. Who applied each step does not matter: the
 * outcome is read back from the consumed intents and the journal.
 */
import { setTimeout as sleep } from "node:timers/promises";
import type { Command } from "commander";
import type { Step } from "../controller/types.js";
import { parseDuration, DURATION_HINT } from "../daemon-config/duration.js";
import { stepVersion } from "../engine/logger.js";
import { ExitCode, RefusedError, RolloutError, UnreachableError, UsageError } from "../errors.js";
import type { CommandContext } from "../program.js";
import type { Intent, JsonValue } from "../state/store.js";
import { printJson } from "./io.js";
import { addOperatorOptions, operatorActor, type Operator } from "./operator-context.js";
import { stableInConfig, unreachableError } from "./operator-view.js";
import { openCliFleet } from "./fleet-view.js";
import { putFleetIntent } from "./fleet-intent.js";

export { operatorActor };

export const DEFAULT_TIMEOUT = "10m";
/** Pause between reconcile attempts while the model waits (TF Serving, a lock, a directory). */
const RETRY_MS = 250;

export interface IntentOptions {
  json?: boolean;
  verbose?: boolean;
  timeout?: string;
}

/** The operator flags plus `--timeout`. */
export function addIntentOptions(command: Command): Command {
  return addOperatorOptions(command).option(
    "--timeout <duration>",
    "how long to keep applying before giving up, checked between steps (the intent stays recorded), e.g. 30s, 10m",
    DEFAULT_TIMEOUT,
  );
}

/** A version number as TF Serving's int64 in canonical decimal form, or a usage error naming the flag. */
export function parseVersion(text: string, where: string): string {
  const trimmed = text.trim();
  if (/^-?\d+$/.test(trimmed)) {
    const value = BigInt(trimmed);
    if (value >= 0n && value <= 2n ** 63n - 1n) return value.toString();
  }
  throw new UsageError(`${where} "${text}" is not a version number`, {
    where,
    hint: "give the version directory's number, e.g. 3 (tfs-rollout status MODEL lists them)",
  });
}

export function parseTimeout(text: string | undefined, flag = "--timeout"): number {
  const parsed = parseDuration(text ?? DEFAULT_TIMEOUT);
  if (!parsed.ok)
    throw new UsageError(`${flag} "${text}" ${parsed.reason}`, { where: flag, hint: DURATION_HINT });
  return parsed.ms;
}

export type IntentOutcome = "done" | "refused" | "failed" | "pending";

export interface AppliedStep {
  step: string;
  version?: string;
  ok: boolean;
  reason: string;
  at: string;
}

export interface IntentReport {
  command: string;
  model: string;
  intent: Intent;
  outcome: IntentOutcome;
  reason: string;
  /** Whether the controller has consumed the intent (it may still be on its way to the goal). */
  applied: boolean;
  stable: { before: string | undefined; after: string | undefined };
  /** Every step applied to the model since the intent was recorded, by this command or a running daemon. */
  steps: AppliedStep[];
  /** What the model waits for when the command stopped before its goal. */
  waitingFor?: string;
}

/** What the controller did with a consumed intent. */
export interface Consumed {
  outcome: "done" | "refused" | "failed";
  reason: string;
}

export interface Progress {
  consumed: Consumed | undefined;
  stable: string | undefined;
  /** The reconcile's result: converged, waiting, failing, aborted, error. */
  reconcile: string | undefined;
  waitingFor: string | undefined;
}

/**
 * After the intent is consumed: finished (with the final outcome), or undefined to keep applying. The default:
 * finished as soon as it is consumed.
 */
export type GoalCheck = (
  progress: Progress & { consumed: Consumed },
) => Consumed | undefined | Promise<Consumed | undefined>;

export interface IntentRequest {
  command: string;
  model: string;
  kind: string;
  args: { [key: string]: JsonValue };
  timeoutMs: number;
  goal?: GoalCheck;
  /** Fleet mode, rollback: the versions it takes out, rejected fleet-wide by the operator's override. */
  fleetReject?: { versions: string[]; reason: string };
}

/** Records the intent, applies it until consumed and the goal holds (or the deadline), and returns the report. */
export async function applyIntent(
  ctx: CommandContext,
  operator: Operator,
  request: IntentRequest,
): Promise<IntentReport> {
  const { engine, config } = operator;
  const { model } = request;
  const before = await stableInConfig(config, model);
  // Fleet mode: the fleet gets the intent and this replica's daemon applies it (fleet-intent.ts).
  const fleet = await openCliFleet(config);
  const by = operatorActor(ctx.io.env);
  const input = { model, kind: request.kind, args: request.args, by };
  const intent = await (fleet === undefined
    ? engine.state.intents.put(input)
    : putFleetIntent(fleet, {
        ...input,
        ...(request.fleetReject ? { reject: request.fleetReject } : {}),
      }).finally(() => fleet.close()));
  const unsubscribe = engine.onStep((event) => {
    if (event.step.model !== model) return;
    ctx.io.stderr(`${stepLine(event.step, event.outcome === "ok", event.reason)}\n`);
  });
  const deadline = Date.now() + request.timeoutMs;
  let shownWait: string | undefined;
  let final: { outcome: IntentOutcome; reason: string; waitingFor?: string };
  let applied = false;
  try {
    for (;;) {
      if (fleet === undefined) await engine.reconciler.runOnce([model]);
      const reconcile = fleet === undefined ? engine.reconciler.outcomes.get(model) : "waiting";
      const waitingFor =
        fleet === undefined
          ? engine.reconciler.waits().get(model)
          : `this replica's daemon to apply fleet intent ${intent.id}`;
      const consumed = await consumedOutcome(operator, model, intent.id);
      const progress: Progress = {
        consumed,
        stable: await stableInConfig(config, model),
        reconcile,
        waitingFor,
      };
      if (consumed !== undefined) {
        applied = true;
        const finished =
          consumed.outcome === "done" && request.goal
            ? await request.goal({ ...progress, consumed })
            : consumed;
        if (finished !== undefined) {
          final = finished;
          break;
        }
      }
      if (Date.now() >= deadline) {
        const unfinished =
          waitingFor ?? `the reconcile of ${model} has not finished (${reconcile ?? "not run"})`;
        final = {
          outcome: "pending",
          reason: consumed === undefined ? unfinished : `${consumed.reason}, but ${unfinished}`,
          ...(waitingFor === undefined ? {} : { waitingFor }),
        };
        break;
      }
      if (waitingFor !== undefined && waitingFor !== shownWait) ctx.io.stderr(`waiting: ${waitingFor}\n`);
      shownWait = waitingFor;
      if (reconcile !== "converged") await sleep(RETRY_MS);
    }
  } finally {
    unsubscribe();
  }
  return {
    command: request.command,
    model,
    intent,
    outcome: final.outcome,
    reason: final.reason,
    applied,
    stable: { before, after: await stableInConfig(config, model) },
    steps: await stepsSince(operator, model, intent.at),
    ...(final.waitingFor === undefined ? {} : { waitingFor: final.waitingFor }),
  };
}

/** The consumed intent's outcome: a finished operator rollback/promotion says done or refused in the journal. */
export async function consumedOutcome(
  operator: Operator,
  model: string,
  id: string,
): Promise<Consumed | undefined> {
  const { state } = operator.engine;
  const consumed = await state.intents.consumed(model, id);
  if (consumed === undefined) return undefined;
  const outcome = asRecord(consumed.outcome);
  const reason = typeof outcome.reason === "string" ? outcome.reason : "";
  if (outcome.outcome === "refused") return { outcome: "refused", reason };
  if (outcome.step === "finish-intent") {
    for (const entry of await state.journal.history(model, { limit: 500 })) {
      const step = asRecord(entry.step);
      if (step.kind === "finish-intent" && step.intentId === id && entry.phase !== "begin") {
        return {
          outcome: step.outcome === "refused" ? "refused" : "done",
          reason: String(step.reason ?? reason),
        };
      }
    }
  }
  return { outcome: outcome.ok === false ? "failed" : "done", reason };
}

async function stepsSince(operator: Operator, model: string, since: string): Promise<AppliedStep[]> {
  const entries = await operator.engine.state.journal.history(model, { limit: 500 });
  return entries
    .filter((e) => e.phase !== "begin" && e.at >= since)
    .reverse()
    .map((e) => {
      const step = e.step as unknown as Step;
      const version = stepVersion(step);
      const detail = asRecord(e.detail);
      const outcome = asRecord(detail.outcome as JsonValue);
      return {
        step: step.kind,
        ...(version === undefined ? {} : { version }),
        ok: e.phase === "done",
        reason: typeof outcome.reason === "string" ? outcome.reason : "",
        at: e.at,
      };
    });
}

const asRecord = (value: JsonValue | undefined): Record<string, JsonValue> =>
  value !== null && typeof value === "object" && !Array.isArray(value) ? value : {};

function stepLine(step: Step, ok: boolean, reason: string): string {
  const version = stepVersion(step);
  const what = `${step.kind}${version === undefined ? "" : ` ${version}`}`;
  return ok ? `  ${what}: ok` : `  ${what}: FAILED: ${reason}`;
}

/** Prints the report (JSON or a few lines) and turns a refused, failed or unfinished intent into its exit code. */
export function finishReport(
  ctx: CommandContext,
  operator: Operator,
  report: IntentReport,
  json: boolean | undefined,
  extra: Record<string, unknown> = {},
): void {
  const { model, command } = report;
  if (json === true) printJson(ctx.io, { ...report, ...extra });
  else {
    const lines = [`${command} ${model}: ${report.outcome}${report.reason ? `: ${report.reason}` : ""}`];
    const { before, after } = report.stable;
    lines.push(
      before === after
        ? `  stable: ${after ?? "unset"}`
        : `  stable: ${before ?? "unset"} → ${after ?? "unset"}`,
    );
    const applied = report.steps.map(
      (s) => `${s.step}${s.version === undefined ? "" : ` ${s.version}`}${s.ok ? "" : " (failed)"}`,
    );
    if (applied.length > 0) lines.push(`  steps: ${applied.join(", ")}`);
    lines.push(`  intent: ${report.intent.id} by ${report.intent.by}`);
    ctx.io.stdout(`${lines.join("\n")}\n`);
  }
  const error = reportError(operator, report);
  if (error !== undefined) {
    printed.add(error);
    throw error;
  }
}

function reportError(operator: Operator, report: IntentReport): RolloutError | undefined {
  const { model, command } = report;
  const hint = `see tfs-rollout status ${model} and tfs-rollout history ${model}`;
  switch (report.outcome) {
    case "done":
      return undefined;
    case "refused":
      return new RefusedError(`${command} ${model} refused: ${report.reason}`, { hint });
    case "failed":
      return new RolloutError(`${command} ${model} failed: ${report.reason}`, { hint });
    case "pending": {
      const message = `${command} ${model} not finished before --timeout: ${report.reason}`;
      const pendingHint = report.applied
        ? `intent ${report.intent.id} was applied; a running daemon, or the next command on this model, continues the rollout; ${hint}`
        : `intent ${report.intent.id} stays recorded: a running daemon, or the next command on this model, continues it; ${hint}`;
      if (report.waitingFor?.startsWith("unreachable") === true) {
        const down = unreachableError(operator.config, report.waitingFor);
        return new UnreachableError(message, {
          where: down.where,
          hint: `${down.hint ?? ""}; ${pendingHint}`,
        });
      }
      return new RolloutError(message, { hint: pendingHint });
    }
  }
}

/** Errors whose command already printed its report. */
const printed = new WeakSet<Error>();

const OUTCOME_OF_EXIT: Record<number, string> = {
  [ExitCode.usage]: "usage",
  [ExitCode.unreachable]: "unreachable",
  [ExitCode.refused]: "refused",
};

/**
 * Runs a command's action so that `--json` always prints one document: an error before any report (bad
 * arguments, TF Serving unreachable, a refusal before anything was recorded) becomes
 * `{ command, model, outcome, reason, hint, intent: null }`, then exits with its code as usual.
 */
export async function jsonErrors(
  ctx: CommandContext,
  json: boolean | undefined,
  command: string,
  model: string,
  action: () => Promise<void>,
): Promise<void> {
  try {
    await action();
  } catch (error) {
    if (json === true && error instanceof RolloutError && !printed.has(error)) {
      printJson(ctx.io, {
        command,
        model,
        outcome: OUTCOME_OF_EXIT[error.exitCode] ?? "failed",
        reason: error.message,
        ...(error.hint === undefined ? {} : { hint: error.hint }),
        intent: null,
      });
    }
    throw error;
  }
}
