// The kill-point matrix (`npm run test:crash`, not part of `npm test`): a real daemon process SIGKILLs itself
// through the test-only crash hook (TFS_ROLLOUT_TEST_CRASH_AT=<step>:<begin|done>, src/engine/test-crash-hook.ts)
// right after journaling a step, at every point of a rollout and of a rollback in turn; after each kill issue 5's
// invariants hold, and the next daemon resumes or reverts and goes on. Each chain ends with a daemon without the
// hook that must converge: stable on the good version, the bad one rejected and quarantined, the journal settled.
import assert from "node:assert/strict";
import { readdirSync } from "node:fs";
import { test } from "node:test";
import { openLocalState } from "../../src/state/local-store.js";
import { waitFor } from "../helpers/emulator-harness.js";
import {
  configState,
  invariantViolations,
  publish,
  spawnDaemon,
  stableVersion,
  startWorld,
  type DaemonProcess,
  type World,
} from "../helpers/rollout-world.js";

const TIMEOUT = 30_000;

interface Stage {
  crashAt: string;
  /** What the operator does once this daemon runs (publish a version, ...). */
  then?(world: World): Promise<void>;
}

const adopted = async (world: World) => {
  await waitFor("adopted", async () => (await stableVersion(world)) === "1", TIMEOUT);
};
const publishGood = async (world: World) => {
  await adopted(world);
  // Loading takes a moment, so that await-available is a step of its own (not skipped as already AVAILABLE).
  publish(world.base, "2", { load_delay_ms: 800 });
};
const publishBad = async (world: World) => {
  await waitFor("stable → 2", async () => (await stableVersion(world)) === "2", TIMEOUT);
  publish(world.base, "3", { nan_outputs: true });
};

async function runChain(t: { after(fn: () => unknown): void }, stages: Stage[]): Promise<void> {
  const world = await startWorld();
  t.after(() => world.cleanup());
  await waitFor("version 1 AVAILABLE", async () =>
    (await world.grpc.getModelStatus("m")).some((s) => s.version === "1" && s.state === "AVAILABLE"),
  );
  const daemons: DaemonProcess[] = [];
  t.after(() => {
    for (const d of daemons)
      if (d.child.exitCode === null && d.child.signalCode === null) d.child.kill("SIGKILL");
  });
  for (const stage of stages) {
    const daemon = spawnDaemon(world, [], { TFS_ROLLOUT_TEST_CRASH_AT: stage.crashAt });
    daemons.push(daemon);
    await stage.then?.(world);
    await waitFor(`killed at ${stage.crashAt}`, () => daemon.child.signalCode === "SIGKILL", TIMEOUT).catch(
      (error: unknown) => {
        throw new Error(`${String(error)}\ndaemon log:\n${daemon.stdout()}`);
      },
    );
    assert.deepEqual(await invariantViolations(world), [], `after the kill at ${stage.crashAt}`);
  }
  const last = spawnDaemon(world);
  daemons.push(last);
  const state = await openLocalState(world.stateDir);
  await waitFor(
    "converged: 2 stable, 3 rejected, journal settled",
    async () =>
      (await stableVersion(world)) === "2" &&
      (await state.verdicts.get("m", "3"))?.verdict === "rejected" &&
      (await state.journal.unfinished("m")).length === 0,
    TIMEOUT,
  ).catch((error: unknown) => {
    throw new Error(`${String(error)}\ndaemon log:\n${last.stdout()}`);
  });
  assert.deepEqual(await invariantViolations(world), []);
  assert.deepEqual(configState(world).labels, { stable: "2" });
  assert.ok(!configState(world).specific.includes("3"));
  assert.ok(readdirSync(world.base).some((n) => n.startsWith(".rejected-3-")));
  assert.equal((await state.verdicts.get("m", "2"))?.verdict, "promoted");
  last.child.kill("SIGTERM");
  assert.equal(await last.exited, 0);
}

test("kill right after each journal begin: adopt, load, await, gate, promote, verify, rollback-config, quarantine", async (t) => {
  await runChain(t, [
    { crashAt: "adopt:begin" },
    { crashAt: "load:begin", then: publishGood },
    { crashAt: "await-available:begin" },
    { crashAt: "gate:begin" },
    { crashAt: "promote:begin" },
    { crashAt: "verify:begin" },
    { crashAt: "rollback-config:begin", then: publishBad },
    { crashAt: "quarantine:begin" },
  ]);
});

test("kill right after each journal end: adopt, admit, load, promote, verify, failed gate, rollback-config, quarantine", async (t) => {
  await runChain(t, [
    { crashAt: "adopt:done" },
    { crashAt: "admit:done", then: publishGood },
    { crashAt: "load:done" },
    { crashAt: "promote:done" },
    { crashAt: "verify:done" },
    { crashAt: "gate:done", then: publishBad },
    { crashAt: "rollback-config:done" },
    { crashAt: "quarantine:done" },
  ]);
});
