/**
 * The daemon's logger: pino JSON lines on the given sink (stdout in daemon mode, nothing else goes there), or, with
 * `pretty`, one human-readable line per event formatted here (pino-pretty is not a dependency). Every applied step
 * is logged as one event by `logStep` with model, version, step, outcome, duration_ms and, for failures, reason.
 */
import { pino, type Logger } from "pino";
import type { Step } from "../controller/types.js";
import type { LogLevel } from "../daemon-config/types.js";

export type EngineLogger = Logger;

export interface LoggerOptions {
  write: (line: string) => void;
  level?: LogLevel;
  pretty?: boolean;
}

export function createEngineLogger(options: LoggerOptions): EngineLogger {
  const sink = options.pretty
    ? { write: (line: string) => options.write(prettyLine(line)) }
    : { write: (line: string) => options.write(line) };
  return pino({ level: options.level ?? "info", base: undefined }, sink);
}

const LEVELS: Record<number, string> = {
  10: "TRACE",
  20: "DEBUG",
  30: "INFO",
  40: "WARN",
  50: "ERROR",
  60: "FATAL",
};
const SHOWN_FIRST = ["model", "version", "step", "outcome", "duration_ms", "reason"];

/** `12:00:01.234 INFO  model=m version=2 step=load outcome=ok duration_ms=12 message`. */
export function prettyLine(json: string): string {
  let event: Record<string, unknown>;
  try {
    event = JSON.parse(json) as Record<string, unknown>;
  } catch {
    return json;
  }
  const { time, level, msg, ...rest } = event;
  const when = typeof time === "number" ? new Date(time).toISOString().slice(11, 23) : "";
  const keys = [
    ...SHOWN_FIRST.filter((k) => k in rest),
    ...Object.keys(rest).filter((k) => !SHOWN_FIRST.includes(k)),
  ];
  const fields = keys.map((k) => `${k}=${typeof rest[k] === "string" ? rest[k] : JSON.stringify(rest[k])}`);
  const name = (LEVELS[level as number] ?? String(level)).padEnd(5);
  return `${[when, name, ...fields, typeof msg === "string" ? msg : ""].filter(Boolean).join(" ")}\n`;
}

/** The version a step is about, for the log's `version` field. */
export function stepVersion(step: Step): string | undefined {
  switch (step.kind) {
    case "load":
    case "promote":
    case "await-available":
    case "gate":
    case "verify":
    case "record-verdict":
    case "mark-failed":
    case "clear-verdict":
    case "quarantine":
    case "bake-probe":
    case "fleet-open":
    case "fleet-acquire-slot":
    case "fleet-report":
    case "fleet-release-slot":
    case "fleet-decide":
    case "fleet-mark-removed":
      return step.version;
    case "admit":
      return step.candidate;
    case "start-rollback":
      return step.target;
    case "start-promote":
    case "canary":
    case "request-approval":
      return step.version;
    case "reclaim":
      return step.entries.length ? step.entries.map((e) => e.version).join(",") : undefined;
    case "rollback-config":
      return step.removed.join(",");
    case "trim":
      return step.dropped.join(",");
    default:
      return undefined;
  }
}

export interface StepEvent {
  step: Step;
  outcome: "ok" | "failed" | "interrupted";
  durationMs: number;
  reason: string;
  /** Extra fields, e.g. the gate's checks or the failing request/response summary. */
  details?: Record<string, unknown>;
}

export function logStep(log: EngineLogger, event: StepEvent): void {
  const { step } = event;
  const version = stepVersion(step);
  const fields = {
    model: step.model,
    ...(version === undefined ? {} : { version }),
    step: step.kind,
    outcome: event.outcome,
    duration_ms: event.durationMs,
    reason: event.reason,
    ...event.details,
  };
  if (event.outcome === "ok")
    log.info(fields, `${step.kind} ${step.model}${version ? ` ${version}` : ""}: ok`);
  else
    log.warn(
      fields,
      `${step.kind} ${step.model}${version ? ` ${version}` : ""} ${event.outcome}: ${event.reason}`,
    );
}
