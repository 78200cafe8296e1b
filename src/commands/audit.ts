/**
 * The journal as an audit trail (`tfs-rollout history`, and the last events of `tfs-rollout status`): one event per
 * step that finished ("done"/"failed"), plus the step still in flight, each with what happened in words, its
 * reason, its time and who did it. Attribution: a step that carries an intent, or runs for an operator rollback or
 * promotion under way, belongs to whoever filed that intent (`cli:<user>`, or `auto-rollback` for the bake
 * period's automatic rollback); an accepted hand edit belongs to `hand-edit`; everything else to the daemon.
 */
import type { ControllerRecord, Step } from "../controller/types.js";
import type { ConsumedIntent, Intent, JournalEntry } from "../state/store.js";
import { clipText } from "./table.js";

export interface GateCheckSummary {
  name: string;
  passed: boolean;
  detail: string;
  numbers?: Record<string, number>;
}

export interface GateReport {
  passed?: boolean;
  durationMs?: number;
  checks: GateCheckSummary[];
  failingExchange?: unknown;
}

export interface AuditEvent {
  at: string;
  model: string;
  /** Journal id of the step. */
  id: string;
  step: string;
  version?: string;
  outcome: "ok" | "failed" | "in-flight";
  /** What happened, in words. */
  what: string;
  reason: string;
  by: string;
  /** The operator intent the step served, when it served one. */
  intent?: { id: string; kind: string; by: string };
  /** Gate steps: the checks with their numbers, when the journal holds them. */
  gate?: GateReport;
}

interface Detail {
  record?: ControllerRecord;
  outcome?: { ok?: boolean; reason?: string; by?: string };
  [key: string]: unknown;
}

export type IntentLookup = Map<string, Pick<Intent, "id" | "kind" | "by"> | ConsumedIntent>;

/** Events newest first, at most `limit`. `entries` is the journal newest first (as `journal.history` gives it). */
export function auditTrail(entries: JournalEntry[], intents: IntentLookup, limit: number): AuditEvent[] {
  const oldestFirst = [...entries].reverse();
  const finished = new Set(oldestFirst.filter((e) => e.phase !== "begin").map((e) => e.id));
  const events: AuditEvent[] = [];
  let before: ControllerRecord | undefined;
  for (const entry of oldestFirst) {
    const detail = (entry.detail ?? {}) as Detail;
    if (entry.phase === "begin") {
      if (!finished.has(entry.id)) events.push(toEvent(entry, detail, before, intents, "in-flight"));
      continue;
    }
    events.push(toEvent(entry, detail, before, intents, entry.phase === "done" ? "ok" : "failed"));
    if (detail.record !== undefined) before = detail.record;
  }
  return events.reverse().slice(0, limit);
}

function toEvent(
  entry: JournalEntry,
  detail: Detail,
  before: ControllerRecord | undefined,
  intents: IntentLookup,
  outcome: AuditEvent["outcome"],
): AuditEvent {
  const step = entry.step as unknown as Step;
  const reason = detail.outcome?.reason ?? "";
  const intentId = intentOf(step, before);
  const intent = intentId === undefined ? undefined : intents.get(intentId);
  const by =
    step.kind === "accept-hand-edit"
      ? "hand-edit"
      : (intent?.by ?? (intentId !== undefined ? "cli" : (detail.outcome?.by ?? entry.by)));
  const version = versionOf(step);
  const gate = step.kind === "gate" ? gateReport(detail) : undefined;
  return {
    at: entry.at,
    model: entry.model,
    id: entry.id,
    step: step.kind,
    ...(version === undefined ? {} : { version }),
    outcome,
    what: describeStep(step, outcome),
    reason,
    by,
    ...(intent === undefined ? {} : { intent: { id: intent.id, kind: intent.kind, by: intent.by } }),
    ...(gate === undefined ? {} : { gate }),
  };
}

function intentOf(step: Step, before: ControllerRecord | undefined): string | undefined {
  if ("intentId" in step && typeof step.intentId === "string") return step.intentId;
  if (step.kind === "accept-hand-edit") return undefined;
  return before?.rollback?.intentId ?? before?.promote?.intentId;
}

export function versionOf(step: Step): string | undefined {
  switch (step.kind) {
    case "admit":
      return step.candidate;
    case "start-rollback":
      return step.target;
    case "set-pin":
      return step.pin?.version;
    case "trim":
      return step.dropped.join(",") || undefined;
    case "rollback-config":
      return step.removed.join(",") || undefined;
    default:
      return "version" in step && typeof step.version === "string" ? step.version : undefined;
  }
}

const listed = (versions: string[]): string => versions.join(", ");

/** One line saying what the step does (or did). */
export function describeStep(step: Step, outcome: AuditEvent["outcome"] | "planned" = "ok"): string {
  const failed =
    outcome === "failed" && step.kind !== "gate"
      ? " (FAILED)"
      : outcome === "in-flight"
        ? " (in flight)"
        : "";
  return `${describe(step, outcome)}${failed}`;
}

function describe(step: Step, outcome: AuditEvent["outcome"] | "planned"): string {
  const policy = (c: { specific: string[]; labels: Record<string, string> }) =>
    `specific [${listed(c.specific)}]${Object.entries(c.labels)
      .map(([k, v]) => ` ${k}=${v}`)
      .join("")}`;
  switch (step.kind) {
    case "admit":
      return `detected ${step.candidate}: admitted as candidate${step.skipped.length ? `; skipped ${listed(step.skipped)}` : ""}`;
    case "adopt":
      return `adopted the model (was ${step.from}): ${policy(step.config)}`;
    case "load":
      return `load ${step.version}: ${policy(step.config)}`;
    case "await-available":
      return `wait for ${step.version} to be AVAILABLE`;
    case "gate":
      return outcome === "ok"
        ? `gate passed for ${step.version}`
        : outcome === "failed"
          ? `gate failed for ${step.version}`
          : `gate ${step.version}${step.stable ? ` (against stable ${step.stable})` : ""}`;
    case "promote":
      return `promote ${step.version}${step.from ? ` (stable ${step.from} → ${step.version})` : ""}: ${policy(step.config)}`;
    case "verify":
      return `verify ${step.label} resolves to ${step.version}`;
    case "trim":
      return `unload ${listed(step.dropped)}: ${policy(step.config)}`;
    case "rollback-config":
      return `roll back: take ${listed(step.removed)} out: ${policy(step.config)}`;
    case "quarantine":
      return step.action === "delete"
        ? `delete directory ${step.dirName} of ${step.version}`
        : `rename directory ${step.dirName} of ${step.version} to ${step.newName}`;
    case "record-verdict":
      return `${step.version} ${step.verdict}`;
    case "mark-failed":
      return `${step.version} marked failed`;
    case "accept-hand-edit":
      return `hand edit of models.config accepted: ${step.changes.join("; ")}`;
    case "set-pin":
      return step.pin === null
        ? "unpinned"
        : `pinned ${step.pin.version}${step.pin.reason ? ` (${step.pin.reason})` : ""}`;
    case "clear-verdict":
      return `retry ${step.version}: rejection cleared${step.restoreFrom ? `, directory restored from ${step.restoreFrom}` : ""}`;
    case "start-rollback":
      return `rollback to ${step.target} started (taking out ${listed(step.reject) || "nothing"})`;
    case "start-promote":
      return `promotion of ${step.version} started${step.skipGates ? " (GATES SKIPPED)" : ""}`;
    case "finish-intent":
      return `intent ${step.outcome}`;
    case "abandon":
      return "abandoned an interrupted step";
    case "wait":
      return `wait (${step.reason}): ${step.detail}`;
    default:
      return otherStep(step);
  }
}

/** Step kinds added after this module was written still read sensibly. */
function otherStep(step: Step): string {
  const s = step as { kind: string; version?: unknown; reason?: unknown };
  const version = typeof s.version === "string" ? ` ${s.version}` : "";
  const reason = typeof s.reason === "string" && s.reason !== "" ? `: ${s.reason}` : "";
  return `${s.kind}${version}${reason}`;
}

/** The gate result the journal holds for a gate step (the engine puts it in `outcome.report`). */
export function gateReport(detail: Record<string, unknown>): GateReport | undefined {
  const outcome = detail.outcome as Record<string, unknown> | undefined;
  for (const value of [outcome?.report, detail.gate, detail.details, detail.result]) {
    const report = asGateReport(value);
    if (report !== undefined) return report;
  }
  return undefined;
}

export function asGateReport(value: unknown): GateReport | undefined {
  if (value === null || typeof value !== "object") return undefined;
  const v = value as Record<string, unknown>;
  if (!Array.isArray(v.checks)) return undefined;
  const checks = (v.checks as unknown[]).flatMap((c): GateCheckSummary[] => {
    if (c === null || typeof c !== "object") return [];
    const check = c as Record<string, unknown>;
    return [
      {
        name: String(check.name ?? ""),
        passed: check.passed === true,
        detail: String(check.detail ?? ""),
        ...(check.numbers !== null && typeof check.numbers === "object"
          ? { numbers: check.numbers as Record<string, number> }
          : {}),
      },
    ];
  });
  const duration = v.durationMs ?? v.gate_duration_ms;
  const failing = v.failingExchange ?? v.failing_exchange;
  return {
    ...(typeof v.passed === "boolean" ? { passed: v.passed } : {}),
    ...(typeof duration === "number" ? { durationMs: duration } : {}),
    checks,
    ...(failing === undefined ? {} : { failingExchange: failing }),
  };
}

/** "3/4 checks passed; failed: predict grpc serving_default: output y has NaN" */
export function gateSummary(report: GateReport): string {
  const passed = report.checks.filter((c) => c.passed).length;
  const failed = report.checks.filter((c) => !c.passed);
  const head = `${passed}/${report.checks.length} checks passed`;
  return failed.length === 0
    ? head
    : `${head}; failed: ${failed.map((c) => `${c.name}: ${c.detail}`).join("; ")}`;
}

/** Numbers of a check as "p50_ms=3.1 p99_ms=9". */
export function numbersText(numbers: Record<string, number> | undefined): string {
  if (numbers === undefined) return "";
  return Object.entries(numbers)
    .map(([k, v]) => `${k}=${Number.isInteger(v) ? v : Number(v.toPrecision(4))}`)
    .join(" ");
}

/** One line per gate check, for tables: "pass predict grpc serving_default: 1 outputs finite  latency_ms=3". */
export function gateCheckLines(report: GateReport): string[] {
  return report.checks.map((c) => {
    const numbers = numbersText(c.numbers);
    return clipText(
      `  ${c.passed ? "pass" : "FAIL"} ${c.name}: ${c.detail}${numbers ? ` [${numbers}]` : ""}`,
      160,
    );
  });
}
