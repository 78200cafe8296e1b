// The bake period's monitor with an injected clock, scheduler and probe: when a bake runs (derived from the
// journal, so it survives restarts), what a failing probe does (journal, intent, event, enqueue), and when it ends.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import pino from "pino";
import type { ControllerRecord, Step } from "../src/controller/types.js";
import { loadDaemonConfig } from "../src/daemon-config/load.js";
import { configForModel } from "../src/daemon-config/model-view.js";
import type { ModelConfigView } from "../src/daemon-config/types.js";
import type { GateResult } from "../src/gate/gate-result.js";
import { BakeMonitor, type BakeScheduler } from "../src/engine/bake.js";
import type { BakeProbeResult } from "../src/engine/bake-probe.js";
import { bakeOf, isBaking, previousStableOf } from "../src/engine/bake-schedule.js";
import { journalBegin, journalEnd } from "../src/engine/controller-state.js";
import type { StepEvent } from "../src/engine/logger.js";
import { openLocalState, type LocalState } from "../src/state/local-store.js";
import type { JournalEntry } from "../src/state/store.js";
import { memoryReader } from "./helpers/daemon-config-reader.js";

const T = Date.UTC(2026, 10, 22, 1, 0, 0);
const PERIOD = 10 * 60_000;

const promotedRecord = (version: string, at: number): ControllerRecord => ({
  verdicts: {
    "1": { verdict: "promoted", reason: "earlier", at: at - 60_000, by: "daemon" },
    [version]: { verdict: "promoted", reason: "stable resolves to it", at, by: "daemon" },
  },
  progress: {},
  verified: { version, at },
});

// ---------------------------------------------------------------------------------------------------------------
// The pure schedule.

test("a verified promotion bakes for the period from the verify step's time", () => {
  const bake = bakeOf(promotedRecord("2", T), "2", PERIOD);
  assert.deepEqual(bake, { version: "2", promotedAt: T, until: T + PERIOD });
  assert.equal(isBaking(bake, T + PERIOD - 1), true);
  assert.equal(isBaking(bake, T + PERIOD), false);
});

test("no bake: period 0, stable moved elsewhere, a rollback under way, an adopted or rolled-back-to stable", () => {
  const record = promotedRecord("2", T);
  assert.equal(bakeOf(record, "2", 0), undefined);
  assert.equal(bakeOf(record, "1", PERIOD), undefined, "stable no longer names the promoted version");
  assert.equal(
    bakeOf(
      { ...record, rollback: { intentId: "i", target: "1", reject: ["2"], action: "rename" } },
      "2",
      PERIOD,
    ),
    undefined,
  );
  const adopted: ControllerRecord = { verdicts: {}, progress: {}, verified: { version: "1", at: T } };
  assert.equal(bakeOf(adopted, "1", PERIOD), undefined, "adoption promotes nothing");
  const rolledBackTo: ControllerRecord = { ...record, verified: { version: "1", at: T + 5 } };
  assert.equal(bakeOf(rolledBackTo, "1", PERIOD), undefined, "1 was promoted long before this verify");
});

const entry = (step: Record<string, unknown>, phase: JournalEntry["phase"] = "done"): JournalEntry => ({
  id: "x",
  model: "m",
  step: step as JournalEntry["step"],
  phase,
  at: new Date(T).toISOString(),
  by: "daemon",
});

test("the rollback target is the version stable named before the promotion (the promote step's `from`)", () => {
  const history = [
    entry({ kind: "verify", version: "3" }),
    entry({ kind: "promote", version: "3", from: "2" }),
    entry({ kind: "promote", version: "3", from: "9" }, "begin"),
    entry({ kind: "promote", version: "2", from: "1" }),
  ];
  assert.equal(previousStableOf(history, "3"), "2");
  assert.equal(previousStableOf(history, "2"), "1");
  assert.equal(previousStableOf([entry({ kind: "promote", version: "5" })], "5"), undefined);
  assert.equal(previousStableOf([], "5"), undefined);
});

// ---------------------------------------------------------------------------------------------------------------
// The monitor.

class FakeScheduler implements BakeScheduler {
  crons: { expression: string; tick: () => void; stopped: boolean }[] = [];
  timers: { ms: number; fire: () => void; stopped: boolean }[] = [];
  cron(expression: string, tick: () => void) {
    const task = { expression, tick, stopped: false };
    this.crons.push(task);
    return { stop: () => void (task.stopped = true) };
  }
  timer(ms: number, fire: () => void) {
    const task = { ms, fire, stopped: false };
    this.timers.push(task);
    return { stop: () => void (task.stopped = true) };
  }
  live() {
    return { crons: this.crons.filter((c) => !c.stopped), timers: this.timers.filter((t) => !t.stopped) };
  }
}

const GATE: GateResult = {
  passed: false,
  durationMs: 12,
  checks: [
    { name: "status of stable 2", passed: true, detail: "AVAILABLE" },
    { name: "predict serving_default (synthesised) over gRPC", passed: false, detail: "INTERNAL: boom" },
  ],
};

interface Harness {
  state: LocalState;
  dir: string;
  clock: { now: number };
  scheduler: FakeScheduler;
  probes: string[];
  enqueued: string[];
  events: StepEvent[];
  monitor: BakeMonitor;
  setStable(version: string): void;
  /** The next probe's answer. */
  answer: BakeProbeResult;
  newMonitor(): BakeMonitor;
}

async function harness(t: { after(fn: () => void | Promise<void>): void }, yaml = ""): Promise<Harness> {
  const dir = mkdtempSync(join(tmpdir(), "tfs-bake-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const state = await openLocalState(join(dir, "state"));
  const modelConfig = join(dir, "models.config");
  const config = await loadDaemonConfig(
    { config: "/cfg.yaml", modelConfigFile: modelConfig },
    {},
    memoryReader({ "/cfg.yaml": yaml }),
  );
  const settings = (model: string): ModelConfigView => configForModel(config, model);
  const h: Harness = {
    state,
    dir,
    clock: { now: T + 1000 },
    scheduler: new FakeScheduler(),
    probes: [],
    enqueued: [],
    events: [],
    answer: { outcome: "passed", reason: "2 checks passed", result: { ...GATE, passed: true, checks: [] } },
    setStable(version) {
      writeFileSync(
        modelConfig,
        `model_config_list { config { name: "m" base_path: "${dir}/m" model_platform: "tensorflow" model_version_policy { specific { versions: 1 versions: 2 } } version_labels { key: "stable" value: ${version} } } }\n`,
      );
    },
    newMonitor() {
      const monitor = new BakeMonitor({
        state,
        modelConfigPath: modelConfig,
        stableLabel: "stable",
        settings,
        probe: async (target) => {
          h.probes.push(`${target.label}=${target.version}`);
          return h.answer;
        },
        now: () => h.clock.now,
        enqueue: (model) => h.enqueued.push(model),
        log: pino({ level: "silent" }),
        emit: (event) => h.events.push(event),
        scheduler: h.scheduler,
      });
      t.after(() => monitor.stop());
      return monitor;
    },
    monitor: undefined as unknown as BakeMonitor,
  };
  h.setStable("2");
  h.monitor = h.newMonitor();
  return h;
}

/** Journals a rollout of `version` from `from`: promote then verify, as the engine does. */
async function journalPromotion(state: LocalState, version: string, from: string, at: number): Promise<void> {
  const promote: Step = {
    kind: "promote",
    model: "m",
    config: { specific: [from, version], labels: { stable: version } },
    version,
    from,
  };
  const verify: Step = { kind: "verify", model: "m", label: "stable", version };
  const before: ControllerRecord = {
    verdicts: { [from]: promotedRecord(from, at - 60_000).verdicts[from]! },
    progress: {},
  };
  await journalBegin(state.journal, "p", promote);
  await journalEnd(state.journal, "p", promote, { ok: true, reason: "reloaded" }, before);
  await journalBegin(state.journal, "v", verify);
  await journalEnd(state.journal, "v", verify, { ok: true, reason: "resolves" }, promotedRecord(version, at));
}

test("start() resumes a bake from the journal: probe cron and an end timer at the verify time + period", async (t) => {
  const h = await harness(t, 'bake: { period: 10m, probe_cron: "*/5 * * * * *" }');
  await journalPromotion(h.state, "2", "1", T);
  await h.monitor.start(["m"]);
  const { crons, timers } = h.scheduler.live();
  assert.deepEqual(
    crons.map((c) => c.expression),
    ["*/5 * * * * *"],
  );
  assert.deepEqual(
    timers.map((x) => x.ms),
    [PERIOD - 1000],
    "the clock is 1 s past the verify",
  );
  assert.deepEqual(h.monitor.baking().get("m"), { version: "2", promotedAt: T, until: T + PERIOD });

  // After a restart, a new monitor over the same state finds the same bake.
  h.clock.now = T + 5 * 60_000;
  const again = h.newMonitor();
  await again.start(["m"]);
  assert.deepEqual(again.baking().get("m"), { version: "2", promotedAt: T, until: T + PERIOD });
  assert.equal(h.scheduler.timers.at(-1)?.ms, 5 * 60_000);
});

test("passing probes change nothing; the end of the period stops probing and enqueues the model for trim", async (t) => {
  const h = await harness(t);
  await journalPromotion(h.state, "2", "1", T);
  await h.monitor.start(["m"]);
  h.scheduler.live().crons[0]!.tick();
  await h.monitor.tick("m");
  assert.deepEqual(h.probes, ["stable=2", "stable=2"]);
  assert.deepEqual(await h.state.intents.pending("m"), []);
  assert.deepEqual(h.events, []);

  h.clock.now = T + PERIOD;
  h.scheduler.live().timers[0]!.fire();
  await h.monitor.refresh("m");
  assert.deepEqual(h.scheduler.live(), { crons: [], timers: [] });
  assert.deepEqual(h.enqueued, ["m"]);
  assert.equal(await h.monitor.tick("m"), undefined, "no probe after the period");
  assert.equal(h.probes.length, 2);
});

test("an end timer that fires early re-arms for the rest; a changed period reschedules", async (t) => {
  const h = await harness(t);
  await journalPromotion(h.state, "2", "1", T);
  await h.monitor.start(["m"]);
  h.clock.now = T + PERIOD - 3;
  h.scheduler.live().timers[0]!.fire();
  await h.monitor.refresh("m");
  assert.deepEqual(
    h.scheduler.live().timers.map((x) => x.ms),
    [3],
  );
  assert.equal(h.scheduler.live().crons.length, 1);
  assert.deepEqual(h.enqueued, []);
  h.clock.now = T + PERIOD;
  h.scheduler.live().timers[0]!.fire();
  await h.monitor.refresh("m");
  assert.deepEqual(h.scheduler.live(), { crons: [], timers: [] });
  assert.deepEqual(h.enqueued, ["m"]);
});

test("a failing probe rolls back automatically: journal, rollback intent by auto-rollback, step event, enqueue", async (t) => {
  const h = await harness(t);
  await journalPromotion(h.state, "2", "1", T);
  await h.monitor.start(["m"]);
  h.answer = {
    outcome: "failed",
    reason: "predict serving_default (synthesised) over gRPC: INTERNAL: boom",
    result: GATE,
  };
  const result = await h.monitor.tick("m");
  assert.equal(result?.outcome, "failed");

  const [intent, ...more] = await h.state.intents.pending("m");
  assert.equal(more.length, 0);
  assert.equal(intent?.kind, "rollback");
  assert.equal(intent?.by, "auto-rollback");
  assert.equal((intent?.args as { to?: string }).to, "1", "back to the version stable named before");
  assert.match(String((intent?.args as { reason?: string }).reason), /bake probe of 2 failed: .*boom/);

  const [probe] = await h.state.journal.history("m", { limit: 1 });
  assert.equal(probe?.phase, "failed");
  assert.equal(probe?.by, "auto-rollback");
  assert.deepEqual(probe?.step, {
    kind: "bake-probe",
    model: "m",
    version: "2",
    label: "stable",
    until: T + PERIOD,
    rollbackTo: "1",
  });
  const detail = probe?.detail as unknown as { report: GateResult; outcome: { ok: boolean; by: string } };
  assert.equal(detail.outcome.ok, false);
  assert.equal(detail.report.checks.length, 2, "the probe's report, bounded like a gate result");

  assert.equal(h.events.length, 1);
  const event = h.events[0]!;
  assert.equal(event.step.kind, "bake-probe");
  assert.equal(event.outcome, "failed");
  assert.equal(event.details?.by, "auto-rollback");
  assert.match(event.reason, /rolling back automatically to 1/);
  assert.deepEqual(h.enqueued, ["m"]);
  assert.deepEqual(h.scheduler.live(), { crons: [], timers: [] }, "probing stopped");

  // The same bake is never probed (nor rolled back) twice, even when a step note re-derives it.
  h.monitor.noteStep({
    step: { kind: "verify", model: "m", label: "stable", version: "2" },
    outcome: "ok",
    durationMs: 1,
    reason: "",
  });
  await h.monitor.refresh("m");
  assert.equal(await h.monitor.tick("m"), undefined);
  assert.equal((await h.state.intents.pending("m")).length, 1);
});

test("after a restart with the rollback intent still pending, a failing probe does not queue a second one", async (t) => {
  const h = await harness(t);
  await journalPromotion(h.state, "2", "1", T);
  await h.state.intents.put({ model: "m", kind: "rollback", args: { to: "1" }, by: "auto-rollback" });
  await h.monitor.start(["m"]);
  h.answer = { outcome: "failed", reason: "boom", result: GATE };
  await h.monitor.tick("m");
  assert.equal((await h.state.intents.pending("m")).length, 1);
});

test("an inconclusive probe (TF Serving unreachable) never rolls back", async (t) => {
  const h = await harness(t);
  await journalPromotion(h.state, "2", "1", T);
  await h.monitor.start(["m"]);
  h.answer = { outcome: "inconclusive", reason: "TF Serving is unreachable" };
  await h.monitor.tick("m");
  assert.deepEqual(await h.state.intents.pending("m"), []);
  assert.equal(h.scheduler.live().crons.length, 1, "still probing");
});

test("no bake without a promotion, after the period, or when stable was moved by hand; not before start()", async (t) => {
  const h = await harness(t);
  await journalPromotion(h.state, "2", "1", T);
  h.monitor.noteStep({
    step: { kind: "verify", model: "m", label: "stable", version: "2" },
    outcome: "ok",
    durationMs: 1,
    reason: "",
  });
  assert.equal(await h.monitor.refresh("m"), undefined, "--once never bakes: start() was not called");

  h.setStable("1");
  await h.monitor.start(["m"]);
  assert.equal(h.monitor.baking().size, 0, "stable names 1: an operator moved it");

  h.setStable("2");
  h.clock.now = T + PERIOD + 1;
  assert.equal(await h.monitor.refresh("m"), undefined, "the period is over");
  assert.deepEqual(h.scheduler.live(), { crons: [], timers: [] });
});

test("stop() while a refresh reads the state: nothing is scheduled after it (the daemon must exit)", async (t) => {
  const h = await harness(t);
  await journalPromotion(h.state, "2", "1", T);
  await h.monitor.start([]);
  const refreshing = h.monitor.refresh("m");
  h.monitor.stop();
  assert.equal(await refreshing, undefined);
  assert.deepEqual(h.scheduler.live(), { crons: [], timers: [] });
});

test("bake.period 0 turns the bake period off", async (t) => {
  const h = await harness(t, "bake: { period: 0 }");
  await journalPromotion(h.state, "2", "1", T);
  await h.monitor.start(["m"]);
  assert.equal(h.monitor.baking().size, 0);
});
