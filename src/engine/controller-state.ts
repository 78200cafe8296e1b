/**
 * Where the controller's own memory lives: the ControllerRecord (verdicts, per-version progress, pin, last written
 * policy, verified stable, operator rollback/promotion under way) is stored in the step journal itself, as the
 * `detail.record` of every "done"/"failed" entry. One fsynced append therefore both closes a step and records its
 * effect, so a crash can never separate the two. On start the newest such entry gives the record, and the newest
 * unfinished "begin" gives the step in flight. Verdicts are also mirrored into the verdict store for the CLI.
 */
import type { StepOutcome } from "../controller/outcome.js";
import type {
  ControllerRecord,
  InFlightStep,
  Step,
  VerdictRecord as ControllerVerdict,
} from "../controller/types.js";
import { isActor } from "../state/records.js";
import type { Actor, Journal, JsonValue, VerdictStore } from "../state/store.js";

export const EMPTY_RECORD: ControllerRecord = { verdicts: {}, progress: {} };

/** Journal entries scanned back for the latest record; compaction keeps far more than this. */
const HISTORY_LIMIT = 2000;

export interface StoredControllerState {
  record: ControllerRecord;
  inFlight?: InFlightStep;
}

interface Detail {
  record?: ControllerRecord;
  outcome?: StepOutcome;
}

export async function loadControllerState(journal: Journal, model: string): Promise<StoredControllerState> {
  const history = await journal.history(model, { limit: HISTORY_LIMIT });
  const latest = history.find((e) => e.phase !== "begin" && (e.detail as Detail | undefined)?.record);
  const record = structuredClone((latest?.detail as Detail | undefined)?.record ?? EMPTY_RECORD);
  record.verdicts ??= {};
  record.progress ??= {};
  const unfinished = await journal.unfinished(model);
  const begin = unfinished.at(-1);
  if (begin === undefined) return { record };
  return {
    record,
    inFlight: { id: begin.id, step: begin.step as unknown as Step, startedAt: Date.parse(begin.at) },
  };
}

export async function journalBegin(journal: Journal, id: string, step: Step): Promise<void> {
  await journal.append({ id, model: step.model, step: toJson(step), phase: "begin", by: "daemon" });
}

export async function journalEnd(
  journal: Journal,
  id: string,
  step: Step,
  outcome: StepOutcome,
  record: ControllerRecord,
): Promise<void> {
  await journal.append({
    id,
    model: step.model,
    step: toJson(step),
    phase: outcome.ok ? "done" : "failed",
    by: "daemon",
    detail: toJson({ outcome, record }),
  });
}

/** Mirrors changed verdicts into the verdict store, which `tfs-rollout status`/`history` read. */
export async function mirrorVerdicts(
  store: VerdictStore,
  model: string,
  before: Record<string, ControllerVerdict>,
  after: Record<string, ControllerVerdict>,
): Promise<void> {
  for (const [version, v] of Object.entries(after)) {
    const old = before[version];
    if (old !== undefined && old.verdict === v.verdict && old.at === v.at) continue;
    const by: Actor = isActor(v.by) ? v.by : "daemon";
    await store.put({
      model,
      version,
      verdict: v.verdict,
      reason: v.by === by ? v.reason : `${v.reason} (${v.by})`,
      at: new Date(v.at).toISOString(),
      by,
    });
  }
  for (const version of Object.keys(before)) {
    if (!(version in after)) await store.remove(model, version);
  }
}

/** Steps and records are plain JSON already; this drops `undefined` members the journal would refuse. */
function toJson(value: unknown): JsonValue {
  return JSON.parse(JSON.stringify(value)) as JsonValue;
}
