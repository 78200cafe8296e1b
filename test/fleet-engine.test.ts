// Fleet mode in process: three Engines agreeing through the in-memory fleet backend (helpers/memory-fleet-world.ts).
// The real-etcd, real-process version of these scenarios is test/fleet-e2e.test.ts.
import assert from "node:assert/strict";
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import {
  allStable,
  IDS,
  removedRollout,
  rolloutOf,
  startFleetWorld,
  stepsOf,
  waitFleet,
} from "./helpers/memory-fleet-world.js";
import { configState, publish } from "./helpers/rollout-world.js";

test("a good version is promoted on all three, at most one loading at once, one coordinator", async (t) => {
  const w = await startFleetWorld(t);
  publish(w.base, "2", { load_delay_ms: 150 });
  await waitFleet(w, "stable 2 on every replica", () => allStable(w, "2"), 40_000);
  const rollout = await rolloutOf(w, "2");
  assert.equal(rollout?.decision?.verdict, "promote");
  assert.deepEqual(Object.keys(rollout?.reports ?? {}).sort(), [...IDS]);
  await waitFleet(w, "every replica reported promoted", async () =>
    Object.values((await rolloutOf(w, "2"))?.reports ?? {}).every((r) => r.phase === "promoted"),
  );
  assert.equal(w.peakLoading(), 1, "max_loading 1: never two replicas loading at once");
  const openers = stepsOf(w, "fleet-open", "2").map((s) => s.replica);
  const deciders = stepsOf(w, "fleet-decide", "2").map((s) => s.replica);
  assert.equal(openers.length, 1);
  assert.deepEqual(deciders, openers, "the coordinator that opened it decided it");
  for (const id of IDS) {
    assert.equal(stepsOf(w, "gate", "2").filter((s) => s.replica === id).length, 1, `${id} gated 2 once`);
  }
});

test("a version failing on one replica only is rejected fleet-wide and renamed once, after all three unloaded it", async (t) => {
  const w = await startFleetWorld(t);
  const bad = w.replica("r3");
  bad.emulator.faults.hold("m", "3"); // r3's TF Serving never finishes loading 3: its AVAILABLE deadline passes
  const reportsAtQuarantine: string[][] = [];
  for (const r of w.replicas)
    r.engine?.onStep((event) => {
      if (event.step.kind === "quarantine")
        void rolloutOf(w, "3").then((rollout) =>
          reportsAtQuarantine.push(Object.values(rollout?.reports ?? {}).map((x) => x.phase)),
        );
    });
  publish(w.base, "3");
  await waitFleet(w, "the fleet rejected 3", async () => (await rolloutOf(w, "3"))?.decision, 40_000);
  bad.emulator.faults.release("m", "3");
  const rollout = await removedRollout(w, "3");
  assert.match(rollout?.decision?.reason ?? "", /r3: /);
  const quarantines = stepsOf(w, "quarantine", "3");
  assert.equal(quarantines[0]?.replica, rollout?.decision?.by, "by the coordinator");
  const renamed = readdirSync(w.base).filter((n) => n.startsWith(".rejected-3-"));
  assert.deepEqual(renamed, [rollout?.removed?.as]);
  assert.equal(existsSync(join(w.base, "3")), false);
  for (const r of w.replicas) {
    assert.equal(w.stable(r.id), "1", r.id);
    assert.ok(
      !configState({ configFile: r.configFile } as never).specific.includes("3"),
      `${r.id} unloaded 3`,
    );
  }
  await waitFleet(w, "the quarantine's snapshot", () => reportsAtQuarantine.length === 1);
  assert.ok(
    reportsAtQuarantine[0]?.every((phase) => phase === "unloaded"),
    `every replica that loaded 3 had unloaded it first: ${reportsAtQuarantine[0]?.join(", ")}`,
  );
  assert.equal(stepsOf(w, "fleet-mark-removed", "3").length, 1);
});

test("the coordinator killed mid-rollout: the others finish with one verdict", async (t) => {
  const w = await startFleetWorld(t);
  publish(w.base, "4", { load_delay_ms: 400 });
  const opened = await waitFleet(
    w,
    "the rollout of 4 opened",
    () => stepsOf(w, "fleet-open", "4")[0],
    20_000,
  );
  const coordinator = opened.replica;
  w.fleet.kill(coordinator);
  await w.stop(coordinator);
  const others = IDS.filter((id) => id !== coordinator);
  await waitFleet(w, "stable 4 on the two others", () => allStable(w, "4", others), 40_000);
  const rollout = await rolloutOf(w, "4");
  assert.equal(rollout?.decision?.verdict, "promote");
  assert.notEqual(rollout?.decision?.by, coordinator, "decided by the coordinator that took over");
  assert.equal(stepsOf(w, "fleet-decide", "4").length, 1, "one verdict");
  assert.equal(stepsOf(w, "fleet-open", "4").length, 1, "the new coordinator continued the same rollout");
});

test("a replica stopped during a rollout converges to the verdict on restart, without its own gate", async (t) => {
  const w = await startFleetWorld(t);
  await w.stop("r2");
  publish(w.base, "5");
  await waitFleet(w, "stable 5 on r1 and r3", () => allStable(w, "5", ["r1", "r3"]), 40_000);
  assert.equal(w.stable("r2"), "1");
  await w.start("r2");
  const before = w.replica("r2").steps.length;
  await waitFleet(
    w,
    "r2 on stable 5",
    () => stepsOf(w, "verify", "5").some((s) => s.replica === "r2"),
    40_000,
  );
  assert.equal(w.stable("r2"), "5");
  const r2 = w
    .replica("r2")
    .steps.slice(before)
    .map((e) => e.step.kind);
  assert.ok(r2.includes("promote") && r2.includes("verify"), r2.join(" "));
  assert.ok(!r2.includes("gate"), `the fleet already judged 5: ${r2.join(" ")}`);
  await waitFleet(
    w,
    "r2 reported promoted",
    async () => (await rolloutOf(w, "5"))?.reports.r2?.phase === "promoted",
  );
});

test("coordination backend unreachable: nothing is promoted or opened; the fleet resumes when it is back", async (t) => {
  const w = await startFleetWorld(t);
  w.fleet.setReachable(false);
  publish(w.base, "6");
  await waitFleet(
    w,
    "every replica waits for the fleet",
    () =>
      IDS.every((id) => w.replica(id).engine?.reconciler.waits().get("m")?.startsWith("fleet-unreachable")),
    20_000,
  );
  assert.ok(allStable(w, "1"));
  assert.equal(stepsOf(w, "fleet-open", "6").length, 0);
  assert.ok(existsSync(join(w.base, "6")));
  w.fleet.setReachable(true);
  await waitFleet(w, "stable 6 everywhere once the backend is back", () => allStable(w, "6"), 40_000);
  assert.equal((await rolloutOf(w, "6"))?.decision?.verdict, "promote");
});
