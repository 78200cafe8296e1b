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

export async function journalBegin(
  journal: Journal,
  id: string,
  step: Step,
  by: Actor = "daemon",
): Promise<void> {
  await journal.append({ id, model: step.model, step: toJson(step), phase: "begin", by });
}

export async function journalEnd(
  journal: Journal,
  id: string,
  step: Step,
  outcome: StepOutcome,
  record: ControllerRecord,
  by: Actor = "daemon",
): Promise<void> {
  await journal.append({
    id,
    model: step.model,
    step: toJson(step),
    phase: outcome.ok ? "done" : "failed",
    by,
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
  const stored = new Map((await store.list(model)).map((r) => [r.version, r]));
  for (const [version, v] of Object.entries(after)) {
    // Compared with the store itself, not with `before`: a crash between the journal entry and this mirror is
    // repaired by the next mirror instead of leaving the CLI's view stale for good.
    const current = stored.get(version);
    if (current !== undefined && current.verdict === v.verdict && current.at === new Date(v.at).toISOString())
      continue;
    const by: Actor = isActor(v.by) ? v.by : "daemon";
    // The gate report (written by the gate step, probe-steps.ts) outlives the verdict changes that follow it.
    const gate = current?.gate;
    await store.put({
      model,
      version,
      verdict: v.verdict,
      reason: v.by === by ? v.reason : `${v.reason} (${v.by})`,
      at: new Date(v.at).toISOString(),
      by,
      ...(gate === undefined ? {} : { gate }),
    });
  }
  for (const version of Object.keys(before)) {
    if (!(version in after)) await store.remove(model, version);
  }
}

const repaired = new WeakMap<VerdictStore, Set<string>>();

/**
 * Once per model and process (the first pass after a start): brings the verdict store in line with the journaled
 * record, in case the previous daemon died between a journal entry and its mirror.
 */
export async function repairVerdictMirror(
  store: VerdictStore,
  model: string,
  record: ControllerRecord,
): Promise<void> {
  const done = repaired.get(store) ?? new Set<string>();
  repaired.set(store, done);
  if (done.has(model)) return;
  await mirrorVerdicts(store, model, {}, record.verdicts);
  done.add(model);
}

/** Steps and records are plain JSON already; this drops `undefined` members the journal would refuse. */
function toJson(value: unknown): JsonValue {
  return JSON.parse(JSON.stringify(value)) as JsonValue;
}
