/**
 * The bake period (issue 7): after a verified promotion, `stable` is probed on a node-cron schedule
 * (`bake.probe_cron`) until `bake.period` has passed since the verify step. A failing probe rolls back
 * automatically: the probe is journaled and reported as a `bake-probe` step event, and a rollback intent
 * `{kind: "rollback", args: {to: <previous stable>}, by: "auto-rollback"}` is queued and the model enqueued, so the
 * controller's operator-rollback path flips `stable` back to the previous version (still loaded: an instant label
 * flip) and takes the bad version out and off disk like a failed candidate (a rollback intent may quarantine a
 * version that served). When the period ends the model is enqueued once more, so `trim` applies keep_previous.
 *
 * Nothing here is the source of truth: every tick re-derives the bake from the journaled record and models.config
 * (bake-schedule.ts), so a restart, a SIGHUP or an operator's move of `stable` is picked up by the next tick.
 */
import { randomUUID } from "node:crypto";
import cron from "node-cron";
import type { Step } from "../controller/types.js";
import type { ModelConfigView } from "../daemon-config/types.js";
import { journalGateResult } from "../gate/journal-form.js";
import { errorText } from "../gate/summary.js";
import { loadModelServerConfigShared } from "../modelconfig/load.js";
import type { JsonValue, StateBackend } from "../state/store.js";
import { bakeOf, isBaking, previousStableOf, type Bake } from "./bake-schedule.js";
import type { BakeProbe, BakeProbeResult } from "./bake-probe.js";
import type { FleetLink } from "./fleet-steps.js";
import { loadControllerState } from "./controller-state.js";
import { gateLogDetails } from "./gate-report.js";
import { logStep, type EngineLogger, type StepEvent } from "./logger.js";
import { findModel, observedModelConfig } from "./observe.js";

export const AUTO_ROLLBACK = "auto-rollback";

export interface Stoppable {
  stop(): void;
}

/** node-cron and timers, injectable so tests drive ticks by hand. */
export interface BakeScheduler {
  cron(expression: string, tick: () => void): Stoppable;
  timer(ms: number, fire: () => void): Stoppable;
}

/** Models whose bake is derived at once by start(). */
const START_PARALLEL = 8;
/** Longest setTimeout delay; a longer bake re-checks then and schedules the rest. */
const MAX_TIMER_MS = 2 ** 31 - 1;

export const nodeScheduler: BakeScheduler = {
  cron(expression, tick) {
    const task = cron.schedule(expression, tick, { name: "tfs-rollout-bake", noOverlap: true });
    return { stop: () => void task.destroy() };
  },
  timer(ms, fire) {
    const timer = setTimeout(fire, Math.min(Math.max(ms, 0), MAX_TIMER_MS));
    return { stop: () => clearTimeout(timer) };
  },
};

export interface BakeDeps {
  state: Pick<StateBackend, "journal" | "intents">;
  modelConfigPath: string;
  stableLabel: string;
  settings(model: string): ModelConfigView;
  probe: BakeProbe;
  now(): number;
  enqueue(model: string): void;
  log: EngineLogger;
  /** Step listeners (metrics, webhooks); the event is logged here already. */
  emit(event: StepEvent): void;
  scheduler?: BakeScheduler;
  /** Fleet mode: a failed probe rolls the whole fleet back (engine.ts passes its FleetSession with the pass deps). */
  fleet?: Pick<FleetLink, "autoRollback">;
}

interface Active {
  bake: Bake;
  cron: string;
  tasks: Stoppable[];
  probing: boolean;
  /** The end timer went off (timers may fire a little early): the next refresh re-arms or ends. */
  timerFired: boolean;
}

/** Steps after which the bake of a model may have started or ended. */
const RELEVANT = new Set<Step["kind"]>([
  "verify",
  "promote",
  "start-rollback",
  "rollback-config",
  "accept-hand-edit",
  "adopt",
]);

export class BakeMonitor {
  private readonly active = new Map<string, Active>();
  private readonly queues = new Map<string, Promise<unknown>>();
  /** Bakes whose probe failed (model@version@promotedAt): never probed again, one rollback each. */
  private readonly failed = new Set<string>();
  private readonly scheduler: BakeScheduler;
  private started = false;
  private stopped = false;

  constructor(private readonly deps: BakeDeps) {
    this.scheduler = deps.scheduler ?? nodeScheduler;
  }

  /**
   * Resumes the bakes still running (after a restart: from the verify step's time in the journal). A few models
   * at a time: each reads its journal and models.config, and a thousand at once held a thousand copies of both.
   */
  async start(models: readonly string[]): Promise<void> {
    this.started = true;
    const queue = [...models];
    const worker = async (): Promise<void> => {
      for (let model = queue.shift(); model !== undefined; model = queue.shift()) await this.refresh(model);
    };
    await Promise.all(Array.from({ length: START_PARALLEL }, worker));
  }

  /** For Engine.onStep: a verified promotion starts a bake; a rollback or a newer promotion ends it. */
  noteStep(event: StepEvent): void {
    if (!this.started || !RELEVANT.has(event.step.kind)) return;
    this.background(event.step.model, this.refresh(event.step.model));
  }

  /** SIGHUP: bake.period and bake.probe_cron may have changed; each model's bake is re-derived in the background. */
  reschedule(models: readonly string[]): void {
    for (const model of models) this.background(model, this.refresh(model));
  }

  /** What is baking now, by model (for status displays and tests). */
  baking(): Map<string, Bake> {
    return new Map([...this.active].map(([model, a]) => [model, a.bake]));
  }

  stop(): void {
    this.stopped = true;
    for (const active of this.active.values()) for (const task of active.tasks) task.stop();
    this.active.clear();
  }

  /** Re-derives the model's bake and (re)schedules or ends its probing; the bake, when one is running. */
  refresh(model: string): Promise<Bake | undefined> {
    return this.serial(model, () => this.refreshNow(model));
  }

  /** One probe of the model's stable, now (the cron task's tick). */
  tick(model: string): Promise<BakeProbeResult | undefined> {
    return this.serial(model, async () => {
      const bake = await this.refreshNow(model);
      const active = this.active.get(model);
      if (bake === undefined || active === undefined || active.probing) return undefined;
      active.probing = true;
      try {
        return await this.probe(model, bake);
      } finally {
        active.probing = false;
      }
    });
  }

  private async refreshNow(model: string): Promise<Bake | undefined> {
    if (!this.started || this.stopped) return undefined;
    const settings = this.deps.settings(model);
    let bake: Bake | undefined;
    try {
      const [{ record }, stable] = await Promise.all([
        loadControllerState(this.deps.state.journal, model),
        this.stableOf(model),
      ]);
      bake = bakeOf(record, stable, settings.bake.period);
    } catch (error) {
      this.deps.log.warn({ model, reason: errorText(error) }, "bake: cannot read the model's state");
      return this.active.get(model)?.bake;
    }
    // stop() may have come while the state was read: nothing may be scheduled after it (the process would not exit).
    if (this.stopped) return undefined;
    const now = this.deps.now();
    const current = this.active.get(model);
    if (bake !== undefined && this.failed.has(bakeKey(model, bake))) {
      if (current !== undefined) this.end(model, current, false);
      return undefined;
    }
    if (!isBaking(bake, now)) {
      if (current !== undefined) this.end(model, current, bake !== undefined);
      return undefined;
    }
    const probeCron = settings.bake.probe_cron;
    if (
      current !== undefined &&
      !current.timerFired &&
      current.bake.version === bake.version &&
      current.bake.until === bake.until &&
      current.cron === probeCron
    )
      return bake;
    if (current !== undefined) for (const task of current.tasks) task.stop();
    const active: Active = { bake, cron: probeCron, probing: false, timerFired: false, tasks: [] };
    active.tasks = [
      this.scheduler.cron(probeCron, () => this.background(model, this.tick(model))),
      this.scheduler.timer(bake.until - now, () => {
        active.timerFired = true;
        this.background(model, this.refresh(model));
      }),
    ];
    this.active.set(model, active);
    this.deps.log.info(
      {
        model,
        version: bake.version,
        promoted_at: new Date(bake.promotedAt).toISOString(),
        until: new Date(bake.until).toISOString(),
        probe_cron: probeCron,
      },
      `bake period of ${model} ${bake.version} ${current ? "rescheduled" : "running"} until ${new Date(bake.until).toISOString()}`,
    );
    return bake;
  }

  private end(model: string, active: Active, over: boolean): void {
    for (const task of active.tasks) task.stop();
    this.active.delete(model);
    if (!over) return;
    this.deps.log.info(
      { model, version: active.bake.version },
      `bake period of ${model} ${active.bake.version} is over`,
    );
    // keep_previous applies from now on: the controller's trim may unload previous versions.
    this.deps.enqueue(model);
  }

  private async probe(model: string, bake: Bake): Promise<BakeProbeResult> {
    const label = this.deps.stableLabel;
    let result: BakeProbeResult;
    try {
      result = await this.deps.probe({
        model,
        version: bake.version,
        label,
        settings: this.deps.settings(model),
      });
    } catch (error) {
      result = { outcome: "inconclusive", reason: `the probe could not run: ${errorText(error)}` };
    }
    if (result.outcome === "failed") await this.rollBack(model, bake, result);
    else
      this.deps.log.debug(
        { model, version: bake.version, outcome: result.outcome, reason: result.reason },
        `bake probe of ${model} ${bake.version}: ${result.outcome}`,
      );
    return result;
  }

  private async rollBack(
    model: string,
    bake: Bake,
    failed: Extract<BakeProbeResult, { outcome: "failed" }>,
  ): Promise<void> {
    const { journal, intents } = this.deps.state;
    const started = this.deps.now();
    const previous = previousStableOf(await journal.history(model, { limit: 2000 }), bake.version);
    const why = `bake probe of ${bake.version} failed: ${failed.reason}`;
    // Fleet mode: every replica moves back, never this one alone (labels would differ between replicas). While
    // etcd cannot be told, nothing is rolled back and the bake stays on: the next probe tries again.
    const fleetIntent = await this.deps.fleet
      ?.autoRollback({
        model,
        version: bake.version,
        ...(previous === undefined ? {} : { to: previous }),
        reason: why,
      })
      .catch((error: unknown) => {
        this.deps.log.warn(
          { model, version: bake.version, reason: errorText(error) },
          `bake probe of ${model} ${bake.version} failed (${failed.reason}) but the fleet cannot be told: ${errorText(error)}; probing again on the next tick`,
        );
        return null;
      });
    if (fleetIntent === null) return;
    const step: Step = {
      kind: "bake-probe",
      model,
      version: bake.version,
      label: this.deps.stableLabel,
      until: bake.until,
      ...(previous === undefined ? {} : { rollbackTo: previous }),
    };
    const report = journalGateResult(failed.result);
    await journal.append({
      id: randomUUID(),
      model,
      step: toJson(step),
      phase: "failed",
      by: AUTO_ROLLBACK,
      detail: toJson({ outcome: { ok: false, reason: failed.reason, by: AUTO_ROLLBACK }, report }),
    });
    const pending = fleetIntent === undefined ? await intents.pending(model) : [];
    if (fleetIntent === undefined && !pending.some((i) => i.kind === "rollback" && i.by === AUTO_ROLLBACK)) {
      await intents.put({
        model,
        kind: "rollback",
        args: toJson({ ...(previous === undefined ? {} : { to: previous }), reason: why }),
        by: AUTO_ROLLBACK,
      });
    }
    this.failed.add(bakeKey(model, bake));
    const active = this.active.get(model);
    if (active !== undefined) this.end(model, active, false);
    const event: StepEvent = {
      step,
      outcome: "failed",
      durationMs: this.deps.now() - started,
      reason: `bake probe failed; rolling ${fleetIntent ? "the fleet" : "back"} automatically ${fleetIntent ? "back " : ""}to ${previous ?? "the previous stable"}: ${failed.reason}`,
      details: {
        by: AUTO_ROLLBACK,
        ...(fleetIntent ? { fleet_intent: fleetIntent.id } : {}),
        ...gateLogDetails(failed.result),
      },
    };
    logStep(this.deps.log, event);
    try {
      this.deps.emit(event);
    } catch (error) {
      this.deps.log.warn({ model, reason: errorText(error) }, "a step listener failed");
    }
    this.deps.enqueue(model);
  }

  private async stableOf(model: string): Promise<string | undefined> {
    // Shared (no copy): at start every model's bake is derived at once, and a thousand copies of a thousand-model
    // config were seconds of CPU and half a gigabyte.
    const loaded = await loadModelServerConfigShared(this.deps.modelConfigPath);
    return observedModelConfig(findModel(loaded.message, model))?.labels[this.deps.stableLabel];
  }

  /** Scheduler callbacks: a failure is logged, never an unhandled rejection. */
  private background(model: string, work: Promise<unknown>): void {
    work.catch((error: unknown) =>
      this.deps.log.warn({ model, reason: errorText(error) }, "bake: probe or rollback failed"),
    );
  }

  /** Runs the model's bake work one at a time (ticks, step notes and timers may overlap). */
  private serial<T>(model: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.queues.get(model) ?? Promise.resolve();
    const next = previous.then(fn, fn);
    this.queues.set(
      model,
      next.catch(() => undefined),
    );
    return next;
  }
}

function bakeKey(model: string, bake: Bake): string {
  return `${model}@${bake.version}@${bake.promotedAt}`;
}

function toJson(value: unknown): JsonValue {
  return JSON.parse(JSON.stringify(value)) as JsonValue;
}
