// Operator commands end to end beside a running `tfs-rollout daemon` process, through the real binary, and with
// TF Serving down. The daemon and the CLI share the state dir, models.config and the locks.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { loadModelServerConfig } from "../src/modelconfig/load.js";
import { openLocalState } from "../src/state/local-store.js";
import { REPO, waitFor } from "./helpers/emulator-harness.js";
import { operator, operatorArgs, rolledOut } from "./helpers/operator-world.js";
import {
  configState,
  killEmulator,
  publish,
  spawnDaemon,
  stableVersion,
  startWorld,
  type World,
} from "./helpers/rollout-world.js";

const TIMEOUT = 30_000;

/** The safety invariants, checked on whatever state the two processes left at this instant. */
async function checkInvariants(world: World): Promise<void> {
  const loaded = await loadModelServerConfig(world.configFile); // parses, or throws
  const entry = loaded.message.model_config_list?.config?.find((c) => c.name === "m");
  const specific = entry?.model_version_policy?.specific?.versions ?? [];
  assert.ok(specific.length > 0, "specific is never empty");
  const statuses = await world.grpc.getModelStatus("m");
  for (const [label, version] of Object.entries(entry?.version_labels ?? {})) {
    assert.ok(specific.includes(version), `label ${label} → ${version} is listed`);
    const state = statuses.find((s) => s.version === version)?.state;
    assert.equal(state, "AVAILABLE", `label ${label} → ${version} names an AVAILABLE version`);
  }
}

function stopDaemon(daemon: ReturnType<typeof spawnDaemon>): Promise<number | null> {
  daemon.child.kill("SIGTERM");
  return daemon.exited;
}

test("rollback with the daemon running: applied once, the daemon does not bring the rejected version back", async (t) => {
  const world = await startWorld();
  t.after(() => world.cleanup());
  await rolledOut(world, ["2"]);
  const daemon = spawnDaemon(world);
  t.after(() => void (daemon.child.exitCode === null && daemon.child.kill("SIGKILL")));
  await waitFor("daemon started", () => /tfs-rollout daemon starting/.test(daemon.stdout()), TIMEOUT);

  const run = await operator(world, ["rollback", "m", "--yes", "--json"]);
  assert.equal(run.code, 0, run.err);
  const report = run.json();
  assert.equal(report.outcome, "done");
  assert.deepEqual(report.stable, { before: "2", after: "1" });
  assert.equal(await stableVersion(world), "1");
  const state = await openLocalState(world.stateDir);
  await waitFor("journal settled", async () => (await state.journal.unfinished("m")).length === 0, TIMEOUT);
  await checkInvariants(world);
  assert.deepEqual(configState(world).specific, ["1"]);
  assert.ok(readdirSync(world.base).some((n) => n.startsWith(".rejected-2-")));
  assert.equal((await state.verdicts.get("m", "2"))?.verdict, "rejected");
  // The daemon keeps running and leaves the rolled-back version alone.
  publish(world.base, "3");
  await waitFor("daemon promotes 3", async () => (await stableVersion(world)) === "3", TIMEOUT);
  assert.deepEqual(configState(world).labels, { stable: "3" });
  assert.ok(!configState(world).specific.includes("2"));
  assert.equal(await stopDaemon(daemon), 0);
});

test("CLI and daemon on the same model at the same moment: rollback --to while the daemon loads a candidate", async (t) => {
  const world = await startWorld();
  t.after(() => world.cleanup());
  await rolledOut(world, ["2"]);
  const daemon = spawnDaemon(world);
  t.after(() => void (daemon.child.exitCode === null && daemon.child.kill("SIGKILL")));
  let sampling = true;
  const problems: string[] = [];
  const sampler = (async () => {
    while (sampling) {
      await checkInvariants(world).catch((error: unknown) => problems.push(String(error)));
      await new Promise((r) => setTimeout(r, 25));
    }
  })();
  t.after(() => (sampling = false));

  publish(world.base, "3", { load_delay_ms: 800 });
  await waitFor(
    "the daemon is loading 3",
    async () =>
      (await world.grpc.getModelStatus("m")).some((s) => s.version === "3" && s.state === "LOADING"),
    TIMEOUT,
  );
  const rollback = await operator(world, ["rollback", "m", "--to", "1", "--yes", "--json"]);
  assert.equal(rollback.code, 0, rollback.err);
  const report = rollback.json();
  assert.equal(report.outcome, "done");
  assert.deepEqual(report.stable, { before: "2", after: "1" });
  assert.deepEqual(
    (report.plan as { reject: { version: string }[] }).reject.map((r) => r.version),
    ["2", "3"],
  );
  const state = await openLocalState(world.stateDir);
  await waitFor("journal settled", async () => (await state.journal.unfinished("m")).length === 0, TIMEOUT);
  sampling = false;
  await sampler;
  assert.deepEqual(problems, [], "no sample broke an invariant");
  await checkInvariants(world);
  assert.deepEqual(configState(world).labels, { stable: "1" });
  assert.deepEqual(configState(world).specific, ["1"]);
  assert.equal(await stableVersion(world), "1");
  for (const v of ["2", "3"]) assert.equal((await state.verdicts.get("m", v))?.verdict, "rejected", v);
  const names = readdirSync(world.base);
  assert.ok(names.includes("1") && !names.includes("2") && !names.includes("3"), names.join(" "));
  // Journal consistent: every step that began ended exactly once, whoever applied it.
  const phases = new Map<string, string[]>();
  for (const e of (await state.journal.history("m", { limit: 1000 })).reverse())
    phases.set(e.id, [...(phases.get(e.id) ?? []), e.phase]);
  for (const [id, seen] of phases) {
    const ends = seen.filter((p) => p !== "begin").length;
    assert.equal(ends, 1, `step ${id}: ${seen.join(",")}`);
  }
  assert.equal(await stopDaemon(daemon), 0);
});

/** Runs the real CLI binary (tsx) with stdin not a terminal. */
function binary(args: string[]): Promise<{ code: number | null; out: string; err: string }> {
  const child = spawn(process.execPath, ["--import", "tsx", join(REPO, "src/cli.ts"), ...args], {
    cwd: REPO,
    stdio: ["pipe", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  child.stdout.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr.on("data", (d: Buffer) => (err += d.toString()));
  child.stdin.end();
  return new Promise((resolve) => child.on("exit", (code) => resolve({ code, out, err })));
}

test("the real binary: no terminal and no --yes refuses with exit 4; --yes --json rolls back", async (t) => {
  const world = await startWorld();
  t.after(() => world.cleanup());
  await rolledOut(world, ["2"]);
  const refused = await binary(["rollback", "m", ...operatorArgs(world)]);
  assert.equal(refused.code, 4, refused.err);
  assert.match(refused.out, /Rollback plan for model m:/);
  assert.match(refused.err, /no terminal to ask; nothing was changed\n {2}hint: .*--yes/);
  assert.equal(configState(world).labels.stable, "2");

  const applied = await binary(["rollback", "m", "--yes", "--json", ...operatorArgs(world)]);
  assert.equal(applied.code, 0, applied.err);
  const report = JSON.parse(applied.out) as { outcome: string; stable: unknown };
  assert.equal(report.outcome, "done");
  assert.deepEqual(report.stable, { before: "2", after: "1" });
  assert.equal(await stableVersion(world), "1");
});

test("TF Serving down: every command exits 3 naming the address and the flag, and records nothing", async (t) => {
  const world = await startWorld();
  t.after(() => world.cleanup());
  await rolledOut(world, ["2"]);
  const address = `127.0.0.1:${world.emulator.ports.grpc_port}`;
  await killEmulator(world);
  const before = configState(world).text;
  for (const argv of [
    ["rollback", "m", "--yes"],
    ["promote", "m", "--json"],
    ["pin", "m", "1"],
    ["unpin", "m"],
    ["retry", "m", "2"],
  ]) {
    const run = await operator(world, argv);
    assert.equal(run.code, 3, `${argv.join(" ")}: ${run.err}`);
    assert.ok(run.err.includes(`TF Serving is unreachable at ${address}`), run.err);
    assert.match(run.err, /--grpc \(tf_serving\.grpc_address/);
  }
  const json = await operator(world, ["pin", "m", "2", "--json"]);
  assert.equal(json.code, 3);
  const doc = json.json();
  assert.equal(doc.outcome, "unreachable");
  assert.equal(doc.intent, null);
  assert.ok(String(doc.reason).includes(address));
  assert.equal(configState(world).text, before);
  const state = await openLocalState(world.stateDir);
  assert.deepEqual(await state.intents.pending(), []);
});
