// End to end (emulator process + `tfs-rollout daemon` processes): what the daemon does to directories on a
// rollback with `rollback.action: delete`, SIGKILL at chosen journal points (the test-only crash hook) and a
// restart, TF Serving unreachable at start-up, and TF Serving loading a new version by itself under `latest`
// just before adoption pins `specific`. The full kill-point matrix is in test/reliability/kill-points.test.ts (`npm run test:crash`).
import assert from "node:assert/strict";
import { existsSync, mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { openLocalState } from "../src/state/local-store.js";
import { waitFor } from "./helpers/emulator-harness.js";
import {
  configState,
  daemonYaml,
  invariantViolations,
  killEmulator,
  publish,
  restartEmulator,
  spawnDaemon,
  stableVersion,
  startWorld,
  type DaemonProcess,
  type World,
} from "./helpers/rollout-world.js";

const TIMEOUT = 30_000;

async function servingV1(world: World): Promise<void> {
  await waitFor("version 1 AVAILABLE", async () =>
    (await world.grpc.getModelStatus("m")).some((s) => s.version === "1" && s.state === "AVAILABLE"),
  );
}

/** Adoption is applied when TF Serving resolves `stable` (not merely when the file says so). */
async function waitAdopted(world: World): Promise<void> {
  await waitFor("adopted", async () => (await stableVersion(world)) === "1", TIMEOUT);
}

const events = (d: DaemonProcess, step: string, version?: string) =>
  d.events().filter((e) => e.step === step && (version === undefined || e.version === version));

function start(world: World, t: { after(fn: () => void): void }, env: NodeJS.ProcessEnv = {}): DaemonProcess {
  const daemon = spawnDaemon(world, [], env);
  t.after(() => void (daemon.child.exitCode === null && daemon.child.kill("SIGKILL")));
  return daemon;
}

async function crashed(daemon: DaemonProcess, at: string): Promise<void> {
  const code = await Promise.race([
    daemon.exited,
    waitFor(`crash at ${at}`, () => daemon.child.signalCode !== null, TIMEOUT).then(() => null),
  ]);
  assert.equal(code, null, `killed by the crash hook at ${at}\n${daemon.stdout()}`);
  assert.equal(daemon.child.signalCode, "SIGKILL");
}

test("rollback.action delete: the failed candidate's directory is deleted, nothing else", async (t) => {
  const world = await startWorld();
  t.after(() => world.cleanup());
  writeFileSync(world.daemonConfig, daemonYaml("rollback:\n  action: delete"));
  await servingV1(world);
  // Neighbours that must survive: a non-version child of base_path and a file beside base_path.
  writeFileSync(join(world.base, "README"), "not a version");
  mkdirSync(join(world.base, "3.tmp"));
  writeFileSync(join(world.root, "models", "keep.txt"), "outside base_path");
  const daemon = start(world, t);
  await waitAdopted(world);
  publish(world.base, "2");
  await waitFor("stable → 2", async () => (await stableVersion(world)) === "2", TIMEOUT);

  publish(world.base, "4", { nan_outputs: true });
  await waitFor("4 rejected", () => events(daemon, "record-verdict", "4").length > 0, TIMEOUT);
  assert.deepEqual(readdirSync(world.base).sort(), ["1", "2", "3.tmp", "README"]);
  assert.ok(existsSync(join(world.root, "models", "keep.txt")));
  const quarantine = events(daemon, "quarantine", "4")[0];
  assert.equal(quarantine?.outcome, "ok");
  const state = await openLocalState(world.stateDir);
  // The verdict store (the CLI's view) is written right after the step event: poll it.
  await waitFor(
    "verdict store: 4 rejected",
    async () => (await state.verdicts.get("m", "4"))?.verdict === "rejected",
    TIMEOUT,
  );
  assert.deepEqual(configState(world).labels, { stable: "2" });
  assert.deepEqual(configState(world).specific, ["1", "2"]);
  daemon.child.kill("SIGTERM");
  assert.equal(await daemon.exited, 0);
});

test("SIGKILL right after the journal begin of promote, then of quarantine: each restart converges, invariants hold", async (t) => {
  const world = await startWorld();
  t.after(() => world.cleanup());
  await servingV1(world);
  const state = await openLocalState(world.stateDir);

  const first = start(world, t, { TFS_ROLLOUT_TEST_CRASH_AT: "promote:begin" });
  await waitAdopted(world);
  publish(world.base, "2");
  await crashed(first, "promote:begin");
  assert.deepEqual(await invariantViolations(world), []);
  assert.deepEqual(configState(world).labels, { stable: "1" }, "journaled, not applied");
  const inFlight = (await state.journal.unfinished("m")).at(-1)?.step as { kind?: string } | undefined;
  assert.equal(inFlight?.kind, "promote");

  const second = start(world, t, { TFS_ROLLOUT_TEST_CRASH_AT: "quarantine:begin" });
  await waitFor("stable → 2 after restart", async () => (await stableVersion(world)) === "2", TIMEOUT);
  publish(world.base, "3", { nan_outputs: true });
  await crashed(second, "quarantine:begin");
  assert.deepEqual(await invariantViolations(world), []);
  assert.ok(!configState(world).specific.includes("3"), "rolled back out of specific before the crash");
  assert.ok(existsSync(join(world.base, "3")), "not yet quarantined");

  const third = start(world, t);
  await waitFor("3 quarantined and rejected", () => events(third, "record-verdict", "3").length > 0, TIMEOUT);
  await waitFor("journal settled", async () => (await state.journal.unfinished("m")).length === 0, TIMEOUT);
  assert.deepEqual(await invariantViolations(world), []);
  assert.ok(readdirSync(world.base).some((n) => n.startsWith(".rejected-3-")));
  assert.equal(await stableVersion(world), "2");
  assert.equal((await state.verdicts.get("m", "2"))?.verdict, "promoted");
  third.child.kill("SIGTERM");
  assert.equal(await third.exited, 0);
});

test("TF Serving unreachable at start-up: the daemon keeps running, says what it waits for, adopts once it answers", async (t) => {
  const world = await startWorld();
  t.after(() => world.cleanup());
  await servingV1(world);
  await killEmulator(world);
  const daemon = start(world, t);
  const waiting = await waitFor(
    "the wait is logged",
    () => daemon.events().find((e) => e.model === "m" && /^unreachable: /.test(String(e.waiting_for))),
    TIMEOUT,
  );
  assert.match(String(waiting.waiting_for), /TF Serving is unreachable/);
  assert.equal(daemon.child.exitCode, null, "the daemon keeps running");
  assert.deepEqual(configState(world).specific, [], "nothing is written while TF Serving is away");
  await restartEmulator(world);
  await servingV1(world);
  await waitAdopted(world);
  daemon.child.kill("SIGTERM");
  assert.equal(await daemon.exited, 0);
});

test("a version TF Serving loaded by itself under latest before adoption landed is rolled out as a fresh candidate", async (t) => {
  const world = await startWorld({ emulatorArgs: ["--control_port=0"] });
  t.after(() => world.cleanup());
  // The marker file decides when the daemon may admit 2, so the race is staged, not timed.
  writeFileSync(
    world.daemonConfig,
    daemonYaml().replace("admission:\n", "admission:\n  marker_file: _SUCCESS\n"),
  );
  await servingV1(world);
  const control = `http://127.0.0.1:${world.emulator.ports.control_port}`;
  const hold = await fetch(`${control}/faults/hold`, {
    method: "POST",
    body: JSON.stringify({ model: "m", version: 2 }),
  });
  assert.equal(hold.status, 200);
  publish(world.base, "2"); // TF Serving, still under `latest`, starts loading 2 by itself
  await waitFor(
    "2 LOADING under latest",
    async () =>
      (await world.grpc.getModelStatus("m")).some((s) => s.version === "2" && s.state === "LOADING"),
    TIMEOUT,
  );
  const daemon = start(world, t);
  // The adopt step is logged once its reload returned: TF Serving's policy is `specific` from here on.
  await waitFor("adoption sent", () => events(daemon, "adopt").some((e) => e.outcome === "ok"), TIMEOUT);
  assert.deepEqual(configState(world).specific, ["1"], "adoption lists what serves: 1");
  assert.equal((await fetch(`${control}/faults/hold?model=m&version=2`, { method: "DELETE" })).status, 200);
  // TF Serving finishes its own load of 2, then unloads it: adoption no longer asks for it.
  await waitFor(
    "2 unloaded by the adoption",
    async () => (await world.grpc.getModelStatus("m")).some((s) => s.version === "2" && s.state === "END"),
    TIMEOUT,
  );
  writeFileSync(join(world.base, "2", "_SUCCESS"), "");
  await waitFor("stable → 2", async () => (await stableVersion(world)) === "2", TIMEOUT).catch(
    (error: unknown) => {
      throw new Error(`${String(error)}\ndaemon log:\n${daemon.stdout()}`);
    },
  );
  const failedFor2 = daemon
    .events()
    .filter((e) => e.version === "2" && (e.outcome === "failed" || e.step === "mark-failed"));
  assert.deepEqual(failedFor2, []);
  assert.equal(events(daemon, "gate", "2")[0]?.outcome, "ok", "gated normally");
  assert.deepEqual(configState(world).specific, ["1", "2"]);
  daemon.child.kill("SIGTERM");
  assert.equal(await daemon.exited, 0);
});
