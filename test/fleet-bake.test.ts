// Fleet mode: the bake period's automatic rollback acts on the whole fleet (src/engine/fleet-rollback.ts): a failed
// probe on one replica records the override reject decision and one fleet rollback intent, every replica moves
// back, and the coordinator takes the version off the shared store once. While etcd cannot be told, nothing moves.
import assert from "node:assert/strict";
import { existsSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { autoRollbackIntentId, fleetAutoRollback } from "../src/engine/fleet-rollback.js";
import { MemoryFleet } from "../src/fleet/memory-backend.js";
import {
  allStable,
  IDS,
  removedRollout,
  rolloutOf,
  startFleetWorld,
  waitFleet,
  waitRolledBack,
} from "./helpers/memory-fleet-world.js";
import { publish } from "./helpers/rollout-world.js";

test("fleetAutoRollback: override reject on the baked and every newer undecided version, one intent however often", async () => {
  const fleet = new MemoryFleet();
  const [r1, r2] = [fleet.replica("r1"), fleet.replica("r2")];
  await Promise.all([r1.start(), r2.start()]);
  await r1.openRollout("m", "2");
  await r1.decide("m", "2", { verdict: "promote", reason: "passed on all", by: "r1" });
  await r1.decide("m", "4", { verdict: "reject", reason: "gate failed", by: "r1" });
  await r1.openRollout("m", "5");
  const request = { model: "m", version: "2", to: "1", reason: "bake probe of 2 failed: NaN" };
  const first = await fleetAutoRollback(r1, request);
  const second = await fleetAutoRollback(r2, { ...request, reason: "bake probe of 2 failed on r2" });
  assert.equal(first.id, autoRollbackIntentId("2"));
  assert.deepEqual(second, first, "the second replica's rollback is the same intent");
  assert.deepEqual(first.args, { to: "1", reason: request.reason });
  assert.equal(first.by, "auto-rollback");
  assert.equal((await r1.intents("m")).length, 1);
  const decisions = Object.fromEntries((await r1.rollouts("m")).map((r) => [r.version, r.decision]));
  assert.equal(decisions["2"]?.verdict, "reject");
  assert.equal(decisions["2"]?.override, true);
  assert.equal(decisions["2"]?.by, "auto-rollback");
  assert.equal(decisions["2"]?.reason, request.reason, "decided once, by the first");
  assert.equal(decisions["5"]?.verdict, "reject", "the open rollout above it goes too");
  assert.equal(decisions["4"]?.reason, "gate failed", "an earlier reject is left as it was");
  fleet.setReachable(false);
  await assert.rejects(fleetAutoRollback(r1, { ...request, version: "6" }), /etcd unreachable/);
});

test("a failed bake probe on one replica rolls the whole fleet back; the coordinator removes the version once", async (t) => {
  const w = await startFleetWorld(t, 1, {
    bake: ["  period: 10m", '  probe_cron: "0 0 1 1 *"'], // probed by hand below, never by the cron
  });
  publish(w.base, "2", { degrade_when_file: "DEGRADED" });
  await waitFleet(w, "stable 2 everywhere", () => allStable(w, "2"), 40_000);
  const r1 = w.replica("r1");
  await waitFleet(w, "r1 bakes 2", () => r1.engine?.bake.baking().get("m")?.version === "2");
  writeFileSync(join(w.base, "2", "DEGRADED"), "every Predict of 2 fails from now on");

  // etcd down: the failed probe cannot reach the fleet, so nothing moves and the bake goes on.
  w.fleet.setReachable(false);
  const unreachable = await r1.engine?.bake.tick("m");
  assert.equal(unreachable?.outcome, "failed");
  assert.equal(r1.engine?.bake.baking().get("m")?.version, "2", "still baking: probed again next tick");
  assert.deepEqual(await r1.engine?.state.intents.pending("m"), [], "no local rollback");
  assert.ok(!r1.steps.some((e) => e.step.kind === "bake-probe"));
  w.fleet.setReachable(true);
  assert.ok(allStable(w, "2"));

  const probe = await r1.engine?.bake.tick("m");
  assert.equal(probe?.outcome, "failed");
  await waitRolledBack(w, "1", "2");
  const rollout = await removedRollout(w, "2");
  assert.equal(rollout?.decision?.override, true);
  assert.equal(rollout?.decision?.by, "auto-rollback");
  assert.match(rollout?.decision?.reason ?? "", /bake probe of 2 failed/);
  assert.equal(existsSync(join(w.base, "2")), false);
  assert.equal(readdirSync(w.base).filter((n) => n.startsWith(".rejected-2-")).length, 1);
  const probes = w.steps.filter((s) => s.event.step.kind === "bake-probe");
  assert.deepEqual(
    probes.map((s) => s.replica),
    ["r1"],
  );
  assert.equal(probes[0]?.event.details?.fleet_intent, autoRollbackIntentId("2"));
  for (const id of IDS) {
    const applied = w.replica(id).steps.filter((e) => e.step.kind === "start-rollback");
    assert.equal(applied.length, 1, `${id} applied the fleet's rollback once`);
  }
  assert.equal((await rolloutOf(w, "2"))?.decision?.verdict, "reject");
});
