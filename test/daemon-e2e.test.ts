// End to end: the emulator as a real process on port 0, `tfs-rollout daemon` as a process (or in-process for
// --once), real version directories and models.config in a temp dir.
import assert from "node:assert/strict";
import { readdirSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { openLocalState } from "../src/state/local-store.js";
import { runCli } from "../src/program.js";
import { captureIo } from "./helpers/capture-io.js";
import { writeSavedModel } from "../src/savedmodel/writer.js";
import { HALF_PLUS_TWO, publishVersion, waitFor } from "./helpers/emulator-harness.js";
import {
  configState,
  daemonArgs,
  daemonYaml,
  killEmulator,
  MODELS_CONFIG_COMMENT,
  publish,
  restartEmulator,
  spawnDaemon,
  stableVersion,
  startWorld,
  type World,
} from "./helpers/rollout-world.js";

const TIMEOUT = 30_000;

async function servingV1(world: World): Promise<void> {
  await waitFor("version 1 AVAILABLE", async () =>
    (await world.grpc.getModelStatus("m")).some((s) => s.version === "1" && s.state === "AVAILABLE"),
  );
}

async function predictStable(world: World): Promise<string | undefined> {
  const reply = await world.grpc.predict({
    model_spec: { name: "m", version_label: "stable" },
    inputs: {
      x: { dtype: "DT_FLOAT", tensor_shape: { dim: [{ size: "1" }, { size: "1" }] }, float_val: [4] },
    },
  });
  return String((reply.model_spec as { version?: { value?: unknown } }).version?.value);
}

const stepEvents = (events: Record<string, unknown>[], step: string, version?: string) =>
  events.filter((e) => e.step === step && (version === undefined || e.version === version));

test("daemon: adopts, promotes a good version, rolls back a NaN version, exits 0 on SIGTERM", async (t) => {
  const world = await startWorld();
  t.after(() => world.cleanup());
  await servingV1(world);
  const daemon = spawnDaemon(world);
  t.after(() => void (daemon.child.exitCode === null && daemon.child.kill("SIGKILL")));

  await waitFor("adoption: specific [1], stable=1", () => configState(world).labels.stable === "1", TIMEOUT);
  assert.deepEqual(configState(world).specific, ["1"]);
  // The file is written before the reload is sent: wait for TF Serving to resolve the label.
  await waitFor("stable resolves to 1", async () => (await stableVersion(world)) === "1", TIMEOUT);

  publish(world.base, "2");
  await waitFor("stable → 2", async () => (await stableVersion(world)) === "2", TIMEOUT);
  const promoted = configState(world);
  assert.deepEqual(promoted.specific, ["1", "2"], "the previous stable stays loaded for an instant rollback");
  assert.deepEqual(promoted.labels, { stable: "2" });
  assert.ok(promoted.text.startsWith(MODELS_CONFIG_COMMENT), "models.config keeps its comments");
  assert.match(promoted.text, /name: "m" {2}# the model/);

  publish(world.base, "3", { nan_outputs: true });
  await waitFor("3 rejected", () => stepEvents(daemon.events(), "record-verdict", "3").length > 0, TIMEOUT);
  const after = configState(world);
  assert.deepEqual(after.specific, ["1", "2"]);
  assert.deepEqual(after.labels, { stable: "2" });
  const names = readdirSync(world.base).sort();
  assert.ok(
    names.some((n) => /^\.rejected-3-\d{8}T\d{6}Z$/.test(n)),
    `quarantined: ${names.join(" ")}`,
  );
  assert.ok(!names.includes("3"));
  assert.equal(await predictStable(world), "2", "stable keeps answering");

  const events = daemon.events();
  const gate = stepEvents(events, "gate", "3")[0];
  assert.equal(gate?.outcome, "failed");
  assert.match(String(gate?.reason), /non-finite/);
  for (const e of stepEvents(events, "promote")) {
    assert.equal(e.model, "m");
    assert.equal(typeof e.duration_ms, "number");
  }
  const state = await openLocalState(world.stateDir);
  // The verdict store (the CLI's view) is written right after the step event: poll it.
  await waitFor(
    "verdict store: 2 promoted, 3 rejected",
    async () =>
      (await state.verdicts.get("m", "2"))?.verdict === "promoted" &&
      (await state.verdicts.get("m", "3"))?.verdict === "rejected",
    TIMEOUT,
  );

  writeFileSync(world.daemonConfig, daemonYaml("gate:\n  request_deadline: 5s"));
  daemon.child.kill("SIGHUP");
  await waitFor("SIGHUP reload", () =>
    daemon.events().some((e) => e.msg === "SIGHUP: daemon config reloaded"),
  );
  const reloaded = daemon.events().find((e) => e.msg === "SIGHUP: daemon config reloaded");
  assert.deepEqual(reloaded?.changed, ["gate.request_deadline"]);

  daemon.child.kill("SIGTERM");
  assert.equal(await daemon.exited, 0);
  assert.equal(daemon.stderr(), "");
  for (const line of daemon.stdout().trim().split("\n")) JSON.parse(line); // stdout holds log events only
});

test("daemon --once: exit 0 when converged (a fresh quiet window is waited out); 1 when TF Serving is unreachable, saying what it waits for", async (t) => {
  const world = await startWorld();
  t.after(() => world.cleanup());
  await servingV1(world);

  const io = captureIo();
  assert.equal(await runCli(daemonArgs(world, ["--once"]), io), 0, io.err);
  assert.equal(configState(world).labels.stable, "1");
  const lines = io.out
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.ok(lines.some((e) => e.step === "adopt" && e.outcome === "ok"));

  publish(world.base, "2");
  const fresh = captureIo();
  // A fresh process has never seen version 2: the pass waits out its quiet window, then rolls it out.
  assert.equal(await runCli(daemonArgs(world, ["--once"]), fresh), 0, fresh.err);
  assert.match(fresh.out, /admission-pending/);
  assert.equal(configState(world).labels.stable, "2");

  await world.emulator.stop();
  const down = captureIo();
  assert.equal(await runCli(daemonArgs(world, ["--once"]), down), 1, down.err);
  assert.match(down.out, /"waiting_for":"unreachable: TF Serving is unreachable/);
  assert.equal(configState(world).labels.stable, "2", "nothing changed while unreachable");
});

test("daemon killed mid-rollout (during the load) and restarted: converges, invariants hold", async (t) => {
  const world = await startWorld();
  t.after(() => world.cleanup());
  await servingV1(world);
  const first = spawnDaemon(world);
  t.after(() => void (first.child.exitCode === null && first.child.kill("SIGKILL")));
  await waitAdopted(world, ["m"]);

  publish(world.base, "2", { load_delay_ms: 1500 });
  await waitFor(
    "version 2 LOADING",
    async () =>
      (await world.grpc.getModelStatus("m")).some((s) => s.version === "2" && s.state === "LOADING"),
    TIMEOUT,
  );
  first.child.kill("SIGKILL");
  await first.exited;
  const killed = configState(world);
  assert.deepEqual(killed.labels, { stable: "1" }, "no label on a version that is not AVAILABLE");
  assert.ok(killed.specific.length > 0);
  const state = await openLocalState(world.stateDir);
  assert.ok(killed.specific.includes("2"), "killed mid-rollout: 2 loading, stable still 1");
  // Usually await-available is in flight at the kill; between two steps nothing is.
  assert.ok((await state.journal.unfinished("m")).length <= 1);

  const second = spawnDaemon(world);
  t.after(() => void (second.child.exitCode === null && second.child.kill("SIGKILL")));
  await waitFor("stable → 2 after restart", async () => (await stableVersion(world)) === "2", TIMEOUT);
  assert.deepEqual(configState(world).specific, ["1", "2"]);
  await waitFor("journal settled", async () => (await state.journal.unfinished("m")).length === 0, TIMEOUT);
  second.child.kill("SIGTERM");
  assert.equal(await second.exited, 0);
});

test("daemon: missing variables, erroring, failing-to-load, breaking and stuck-LOADING versions are each rolled back; stable keeps serving", async (t) => {
  const world = await startWorld();
  t.after(() => world.cleanup());
  writeFileSync(world.daemonConfig, daemonYaml().replace("load_deadline: 30s", "load_deadline: 2s"));
  await servingV1(world);
  const daemon = spawnDaemon(world);
  t.after(() => void (daemon.child.exitCode === null && daemon.child.kill("SIGKILL")));
  await waitAdopted(world, ["m"]);

  const bad: [string, () => void, RegExp][] = [
    ["2", () => publishVersion(world.base, "2", { variables: false }), /uninitialized/],
    ["3", () => publish(world.base, "3", { predict_error: { code: "INTERNAL", message: "boom" } }), /boom/],
    [
      "4",
      () => publish(world.base, "4", { load_error: { code: "NOT_FOUND", message: "no graph" } }),
      /no graph/,
    ],
    [
      "5",
      () =>
        publish(world.base, "5", undefined, {
          serving_default: {
            method: "tensorflow/serving/predict",
            inputs: { features: { dtype: "DT_FLOAT", shape: [-1, 1], name: "f:0" } },
            outputs: { y: { dtype: "DT_FLOAT", shape: [-1, 1], name: "y:0" } },
          },
        }),
      /input/,
    ],
    ["6", () => publish(world.base, "6", { load_delay_ms: 600_000 }), /not AVAILABLE/],
  ];
  for (const [version, write, why] of bad) {
    write();
    await waitFor(
      `${version} rejected`,
      () => stepEvents(daemon.events(), "record-verdict", version).length > 0,
      TIMEOUT,
    );
    const reasons = daemon
      .events()
      .filter((e) => e.version === version && (e.outcome === "failed" || e.step === "mark-failed"))
      .map((e) => `${String(e.step)}: ${String(e.reason)}`);
    assert.ok(
      reasons.some((r) => why.test(r)),
      `version ${version}: ${reasons.join(" | ")}`,
    );
    assert.deepEqual(configState(world).labels, { stable: "1" });
    assert.deepEqual(configState(world).specific, ["1"]);
    assert.ok(readdirSync(world.base).some((n) => n.startsWith(`.rejected-${version}-`)));
    assert.equal(await predictStable(world), "1");
  }
  daemon.child.kill("SIGTERM");
  assert.equal(await daemon.exited, 0);
});

test("daemon: a half-copied version is held until complete; a TF Serving outage mid-rollout is waited out", async (t) => {
  const world = await startWorld();
  t.after(() => world.cleanup());
  await servingV1(world);
  const daemon = spawnDaemon(world);
  t.after(() => void (daemon.child.exitCode === null && daemon.child.kill("SIGKILL")));
  await waitAdopted(world, ["m"]);

  // Two data shards announced, one present: incomplete, however long it stays quiet.
  const staging = join(world.base, "2.tmp");
  writeSavedModel(staging, { signatures: HALF_PLUS_TWO, withVariables: true });
  renameSync(
    join(staging, "variables", "variables.data-00000-of-00001"),
    join(staging, "variables", "variables.data-00000-of-00002"),
  );
  renameSync(staging, join(world.base, "2"));
  await waitFor("held as pending", () => /admission-pending: version\(s\) 2/.test(daemon.stdout()), TIMEOUT);
  // Holding is about time passing: give it well over the quiet window (100 ms) and a cron rescan (2 s).
  const heldSince = Date.now();
  await waitFor("well past the quiet window", () => Date.now() - heldSince > 2500, TIMEOUT);
  assert.deepEqual(configState(world).specific, ["1"], "an incomplete version is never loaded");
  writeFileSync(join(world.base, "2", "variables", "variables.data-00001-of-00002"), Buffer.alloc(4));
  await waitFor("stable → 2 once complete", async () => (await stableVersion(world)) === "2", TIMEOUT);

  publish(world.base, "3", { load_delay_ms: 1000 });
  await waitFor(
    "version 3 LOADING",
    async () =>
      (await world.grpc.getModelStatus("m")).some((s) => s.version === "3" && s.state === "LOADING"),
    TIMEOUT,
  );
  await killEmulator(world);
  await waitFor(
    "the daemon says it waits for TF Serving",
    () => /unreachable/i.test(daemon.stdout()),
    TIMEOUT,
  );
  assert.equal(daemon.child.exitCode, null, "the daemon keeps running");
  assert.deepEqual(configState(world).labels, { stable: "2" });
  await restartEmulator(world);
  await waitFor(
    "stable → 3 after the outage",
    async () => (await stableVersion(world)) === "3",
    TIMEOUT,
  ).catch((error: unknown) => {
    throw new Error(
      `${String(error)}\ndaemon log:\n${daemon.stdout()}\nemulator:\n${world.emulator.stderr()}`,
    );
  });
  await waitFor(
    "1 trimmed after 3 was verified",
    () => configState(world).specific.join() === "2,3",
    TIMEOUT,
  );
  daemon.child.kill("SIGTERM");
  assert.equal(await daemon.exited, 0);
});

test("daemon: models roll out in parallel and share models.config without losing each other's edits", async (t) => {
  const models = ["a", "b", "c"];
  const world = await startWorld({ models });
  t.after(() => world.cleanup());
  await waitFor("every model AVAILABLE", async () => {
    for (const m of models) {
      const statuses = await world.grpc.getModelStatus(m);
      if (!statuses.some((s) => s.state === "AVAILABLE")) return false;
    }
    return true;
  });
  const daemon = spawnDaemon(world);
  t.after(() => void (daemon.child.exitCode === null && daemon.child.kill("SIGKILL")));
  await waitAdopted(world, models);
  for (const m of models) publish(join(world.root, "models", m), "2");
  await waitFor(
    "every stable → 2",
    async () => (await Promise.all(models.map((m) => stableVersion(world, m)))).every((v) => v === "2"),
    TIMEOUT,
  ).catch((error: unknown) => {
    throw new Error(`${String(error)}\ndaemon log:\n${daemon.stdout()}\n${configState(world).text}`);
  });
  for (const m of models) assert.deepEqual(configState(world, m).specific, ["1", "2"], m);
  assert.ok(configState(world).text.startsWith(MODELS_CONFIG_COMMENT));
  daemon.child.kill("SIGTERM");
  assert.equal(await daemon.exited, 0);
});

/**
 * Adoption is done when TF Serving resolves `stable` to 1, not merely when models.config says so: until the
 * daemon's reload lands, TF Serving still runs the `latest` policy and would load (and switch to) a version
 * published now on its own, which is not what these tests are about.
 */
async function waitAdopted(world: World, models: string[]): Promise<void> {
  await waitFor(
    "adoption applied by TF Serving",
    async () => {
      for (const m of models) {
        if (configState(world, m).labels.stable !== "1") return false;
        if ((await stableVersion(world, m)) !== "1") return false;
      }
      return true;
    },
    TIMEOUT,
  );
}
