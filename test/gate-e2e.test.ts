// End to end: the deep smoke gates and the bake period with a real `tfs-rollout daemon` process against the
// emulator process (port 0, control server for the call log), real version directories and models.config.
import assert from "node:assert/strict";
import { existsSync, mkdirSync, readdirSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import type { GateResult } from "../src/gate/gate-result.js";
import { writeSavedModel, type SignatureToWrite } from "../src/savedmodel/writer.js";
import { openLocalState } from "../src/state/local-store.js";
import type { JournalEntry } from "../src/state/store.js";
import { encodeTensor } from "../src/tensor/codec.js";
import { WARMUP_FILE } from "../src/warmup/reader.js";
import { writeWarmupFile } from "../src/warmup/writer.js";
import { HALF_PLUS_TWO, waitFor } from "./helpers/emulator-harness.js";
import {
  configState,
  daemonYaml,
  publish,
  spawnDaemon,
  stableVersion,
  startWorld,
  type DaemonProcess,
  type World,
} from "./helpers/rollout-world.js";

const TIMEOUT = 30_000;

/** A version with a warmup file of `records` predict records, published atomically like `publish`. */
function publishWithWarmup(base: string, name: string, records: number[][]): void {
  const staging = join(base, `${name}.tmp`);
  writeSavedModel(staging, { signatures: HALF_PLUS_TWO, withVariables: true });
  mkdirSync(join(staging, "assets.extra"), { recursive: true });
  writeWarmupFile(
    join(staging, WARMUP_FILE),
    records.map((values) => ({
      model_spec: { name: "m", signature_name: "serving_default" },
      inputs: { x: encodeTensor(values, { dtype: "DT_FLOAT", shape: [values.length, 1] }) },
    })),
  );
  renameSync(staging, join(base, name));
}

/** serving_default takes `z` instead of `x`: every client sending `x` would break. */
const RENAMED_INPUT: Record<string, SignatureToWrite> = {
  serving_default: {
    method: "tensorflow/serving/predict",
    inputs: { z: { dtype: "DT_FLOAT", shape: [-1, 1], name: "z:0" } },
    outputs: { y: { dtype: "DT_FLOAT", shape: [-1, 1], name: "y:0" } },
  },
};

interface Call {
  method: string;
  model?: string;
  version?: string;
  label?: string;
  code: string;
}

async function calls(world: World): Promise<Call[]> {
  const reply = await fetch(`http://127.0.0.1:${world.emulator.ports.control_port}/calls?transport=grpc`);
  return ((await reply.json()) as { calls: Call[] }).calls;
}

const stepEvents = (daemon: DaemonProcess, step: string, version?: string) =>
  daemon.events().filter((e) => e.step === step && (version === undefined || e.version === version));

async function journal(world: World): Promise<JournalEntry[]> {
  const state = await openLocalState(world.stateDir);
  return (await state.journal.history("m", { limit: 1000 })).reverse();
}

/** The gate report journaled with the gate step of `version` (oldest first). */
async function gateReport(world: World, version: string): Promise<GateResult> {
  const entry = (await journal(world)).find(
    (e) =>
      e.phase !== "begin" &&
      (e.step as { kind?: string; version?: string }).kind === "gate" &&
      (e.step as { version?: string }).version === version,
  );
  assert.ok(entry, `a journaled gate step of ${version}`);
  return (entry.detail as unknown as { outcome: { report: GateResult } }).outcome.report;
}

async function startDaemon(world: World, t: { after(fn: () => void): void }, yaml: string) {
  writeFileSync(world.daemonConfig, daemonYaml(yaml));
  await waitFor("version 1 AVAILABLE", async () =>
    (await world.grpc.getModelStatus("m")).some((s) => s.version === "1" && s.state === "AVAILABLE"),
  );
  const daemon = spawnDaemon(world);
  t.after(() => void (daemon.child.exitCode === null && daemon.child.kill("SIGKILL")));
  await waitFor("stable resolves to 1", async () => (await stableVersion(world)) === "1", TIMEOUT);
  return daemon;
}

const rejected = (daemon: DaemonProcess, version: string) => () =>
  stepEvents(daemon, "record-verdict", version).length > 0;

test("deep gates: drift beyond tolerance (stable diff, golden file), warmup replay, breaking signature; reports in journal and verdicts", async (t) => {
  const world = await startWorld({ emulatorArgs: ["--control_port=0"] });
  t.after(() => world.cleanup());
  // Relative to the daemon config file; half_plus_two's answers (0.5·x + 2).
  mkdirSync(join(world.root, "golden"));
  writeFileSync(
    join(world.root, "golden", "halves.json"),
    JSON.stringify({ name: "halves", inputs: { x: [[1], [3]] }, expected_outputs: { y: [[2.5], [3.5]] } }),
  );
  const daemon = await startDaemon(
    world,
    t,
    [
      "gate:",
      "  request_deadline: 5s",
      "  stable_diff: { max_absolute: 0.01 }",
      "  golden_files: [golden/halves.json]",
      "bake:",
      "  period: 2s",
      '  probe_cron: "* * * * * *"',
      "  keep_previous: 0",
    ].join("\n"),
  );

  // 2 answers 0.5·x + 2.5 where stable answers 0.5·x + 2: every element is 0.5 off.
  publish(world.base, "2", { offset: 2.5 });
  await waitFor("2 rejected", rejected(daemon, "2"), TIMEOUT);
  const drift = stepEvents(daemon, "gate", "2")[0]!;
  assert.equal(drift.outcome, "failed");
  assert.match(
    String(drift.reason),
    /max absolute difference 0\.5 at output "y"\[0, 0\] of serving_default \(synthesised\) exceeds 0\.01/,
  );
  assert.equal(configState(world).labels.stable, "1");
  assert.ok(!readdirSync(world.base).includes("2"), "rolled back off disk like any failed candidate");

  publishWithWarmup(world.base, "3", [[1], [2, 3], [4]]);
  await waitFor("stable → 3", async () => (await stableVersion(world)) === "3", TIMEOUT);
  const byNumber = (await calls(world)).filter(
    (c) => c.method === "Predict" && c.version === "3" && c.label === undefined,
  );
  assert.equal(
    byNumber.length,
    5,
    `the synthesised request, the golden one and the 3 warmup records: ${JSON.stringify(await calls(world))}`,
  );
  const warmup = (await gateReport(world, "3")).checks.find((c) => c.name === "warmup replay");
  assert.deepEqual(warmup?.numbers, {
    records: 3,
    replayed: 3,
    failed: 0,
    maxLatencyMs: warmup?.numbers?.maxLatencyMs,
  });
  assert.equal(warmup?.passed, true);

  publish(world.base, "4", undefined, RENAMED_INPUT);
  await waitFor("4 rejected", rejected(daemon, "4"), TIMEOUT);
  const breaking = await gateReport(world, "4");
  const contract = breaking.checks.find((c) => c.name === "signature compatibility with stable 3");
  assert.equal(contract?.passed, false);
  assert.match(contract!.detail, /breaking change/);
  assert.ok(
    contract!.changes!.some((c) => c.breaking && /x/.test(c.detail)),
    JSON.stringify(contract!.changes),
  );
  assert.match(String(stepEvents(daemon, "gate", "4")[0]?.reason), /serving_default: input "?x"?/);
  assert.equal(await stableVersion(world), "3");

  // Every gate result is stored: the journal (complete, bounded) and the version's verdict record.
  const state = await openLocalState(world.stateDir);
  for (const [version, verdict, passed] of [
    ["2", "rejected", false],
    ["3", "promoted", true],
    ["4", "rejected", false],
  ] as const) {
    const record = await state.verdicts.get("m", version);
    assert.equal(record?.verdict, verdict, version);
    const gate = record?.gate as unknown as GateResult;
    assert.equal(gate.passed, passed, version);
    assert.deepEqual(
      gate,
      await gateReport(world, version),
      `the verdict store holds the journaled report of ${version}`,
    );
  }
  const driftReport = await gateReport(world, "2");
  const diff = driftReport.checks.find((c) => c.name === "outputs vs stable 1");
  assert.equal(diff?.numbers?.["y.maxAbsDiff"], 0.5);
  assert.equal(diff?.passed, false);
  const golden = (version: string) =>
    gateReport(world, version).then((r) =>
      r.checks.find((c) => c.name === "golden serving_default (halves) over gRPC"),
    );
  assert.match(
    String((await golden("2"))?.detail),
    /"y"/,
    "the golden file's expectations name the drifted tensor",
  );
  assert.equal((await golden("2"))?.passed, false);
  assert.equal((await golden("3"))?.passed, true);

  // keep_previous 0: once 3's bake period is over, the previous stable 1 is unloaded.
  await waitFor(
    "1 unloaded after the bake period",
    () => stepEvents(daemon, "trim", "1").length > 0,
    TIMEOUT,
  );
  assert.deepEqual(configState(world).specific, ["3"]);
  daemon.child.kill("SIGTERM");
  assert.equal(await daemon.exited, 0);
});

test("bake: survives a restart; a version that degrades after promotion is rolled back automatically to the still-warm previous one", async (t) => {
  const world = await startWorld({ emulatorArgs: ["--control_port=0"] });
  t.after(() => world.cleanup());
  const first = await startDaemon(
    world,
    t,
    ["gate:", "  request_deadline: 5s", "bake:", "  period: 1m", '  probe_cron: "* * * * * *"'].join("\n"),
  );

  const dir = publish(world.base, "2", { degrade_when_file: "DEGRADED" });
  await waitFor("stable → 2", async () => (await stableVersion(world)) === "2", TIMEOUT);
  assert.deepEqual(configState(world).specific, ["1", "2"], "the previous stable stays loaded while baking");
  const probedByLabel = async () =>
    (await calls(world)).some((c) => c.method === "Predict" && c.label === "stable" && c.code === "OK");
  await waitFor("a bake probe of stable, sent by the label", probedByLabel, TIMEOUT);
  assert.equal(stepEvents(first, "bake-probe").length, 0, "passing probes roll nothing back");

  // The bake survives a restart: the next daemon derives it from the journal (the verify step's time).
  first.child.kill("SIGTERM");
  assert.equal(await first.exited, 0);
  await fetch(`http://127.0.0.1:${world.emulator.ports.control_port}/calls`, { method: "DELETE" });
  const daemon = spawnDaemon(world);
  t.after(() => void (daemon.child.exitCode === null && daemon.child.kill("SIGKILL")));
  await waitFor("the restarted daemon probes stable again", probedByLabel, TIMEOUT);
  assert.ok(daemon.events().some((e) => e.msg === `bake period of m 2 running until ${String(e.until)}`));

  writeFileSync(join(dir, "DEGRADED"), "");
  await waitFor("stable back to 1", async () => (await stableVersion(world)) === "1", TIMEOUT);
  await waitFor("2 rejected", rejected(daemon, "2"), TIMEOUT);

  const probe = stepEvents(daemon, "bake-probe", "2")[0]!;
  assert.equal(probe.outcome, "failed");
  assert.equal(probe.by, "auto-rollback");
  assert.match(String(probe.reason), /rolling back automatically to 1/);
  assert.match(String(probe.reason), /degraded/);
  const start = stepEvents(daemon, "start-rollback")[0]!;
  assert.equal(start.version, "1");

  // An instant flip: 1 was never unloaded, so no load of it happened after 2's promotion.
  const entries = await journal(world);
  const promotedAt = entries.findIndex(
    (e) =>
      e.phase === "done" &&
      (e.step as { kind?: string; version?: string }).kind === "promote" &&
      (e.step as { version?: string }).version === "2",
  );
  assert.ok(promotedAt >= 0);
  const after = entries.slice(promotedAt + 1).filter((e) => e.phase === "done");
  assert.ok(
    !after.some((e) => (e.step as { kind?: string }).kind === "load"),
    "no load step after the promotion",
  );
  for (const e of after) {
    const config = (e.step as { config?: { specific: string[] } }).config;
    if (config) assert.ok(config.specific.includes("1"), `1 stays listed: ${JSON.stringify(e.step)}`);
  }
  const rollbackStep = after.find((e) => (e.step as { kind?: string }).kind === "start-rollback")!;
  assert.equal((rollbackStep.step as { by?: string }).by, "auto-rollback", "the actor is on the step");
  const probeEntry = entries.find((e) => (e.step as { kind?: string }).kind === "bake-probe")!;
  assert.equal(probeEntry.by, "auto-rollback");
  assert.equal(probeEntry.phase, "failed");

  // The bad version went like a failed candidate: out of models.config and off disk, verdict rejected.
  assert.deepEqual(configState(world).specific, ["1"]);
  assert.deepEqual(configState(world).labels, { stable: "1" });
  const names = readdirSync(world.base);
  assert.ok(
    names.some((n) => /^\.rejected-2-/.test(n)),
    names.join(" "),
  );
  assert.ok(!existsSync(join(world.base, "2")));
  const state = await openLocalState(world.stateDir);
  const verdict = await state.verdicts.get("m", "2");
  assert.equal(verdict?.verdict, "rejected");
  assert.match(verdict!.reason, /automatic rollback \(bake probe failed\) to 1/);
  assert.equal((verdict?.gate as unknown as GateResult | undefined)?.passed, true, "its gate had passed");
  const intentId = (rollbackStep.step as { intentId: string }).intentId;
  await waitFor(
    "the rollback intent consumed",
    async () => (await state.intents.consumed("m", intentId)) !== undefined,
  );
  const intent = await state.intents.consumed("m", intentId);
  assert.equal(intent?.by, "auto-rollback");
  assert.equal(intent?.kind, "rollback");
  assert.deepEqual((intent?.args as { to?: string }).to, "1");

  daemon.child.kill("SIGTERM");
  assert.equal(await daemon.exited, 0);
});
