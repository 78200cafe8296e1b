// Fleet mode end to end (issue 11): a real 3-member etcd cluster, 3 emulators and 3 `tfs-rollout daemon` processes
// sharing one model directory (test/helpers/fleet-world.ts), taking several rollouts in a row (a fleet takes
// seconds to start). Outages are in test/fleet-outage-e2e.test.ts. Skipped with a reason without the etcd binary,
// a failure under CI.
import assert from "node:assert/strict";
import { readdirSync } from "node:fs";
import { test } from "node:test";
import { etcdSkip } from "./helpers/etcd-cluster.js";
import {
  ALL,
  allOn,
  applied,
  decided,
  holding,
  indexOf,
  peakLoading,
  removedOnce,
  reportsOf,
  rolloutOf,
  startFleetWorld,
} from "./helpers/fleet-world.js";
import { publish } from "./helpers/rollout-world.js";

const skip = etcdSkip();

test(
  "fleet: promoted on all, one loading at a time; one replica failing rejects fleet-wide; coordinator SIGKILLed mid-load and mid-removal",
  { skip },
  async (t) => {
    const world = await startFleetWorld(t, { maxLoading: 1 });
    await allOn(world, "1");

    // 1. A good version, slow to load so that overlapping loads would be seen.
    publish(world.base, "2", { load_delay_ms: 800 });
    const promoted = allOn(world, "2");
    const peak = await peakLoading(world, promoted);
    await promoted;
    assert.ok(peak <= 1, `at most 1 replica loading at once (max_loading 1), saw ${peak}`);
    const two = await rolloutOf(world, "2");
    const coordinator = await world.observer.coordinator("m");
    assert.ok(coordinator, "the model has a coordinator");
    assert.equal(two?.decision?.verdict, "promote");
    assert.equal(two?.openedBy, coordinator, "opened by the coordinator");
    assert.equal(two?.decision?.by, coordinator, "decided by the coordinator");
    assert.deepEqual(applied(world, "fleet-open"), [coordinator], "opened once");
    assert.deepEqual(applied(world, "fleet-decide"), [coordinator], "decided once");
    await reportsOf(world, "2", "promoted", 3);
    assert.deepEqual(await world.observer.loadSlots("m"), [], "every load slot given back");

    // 2. Version 3 never becomes AVAILABLE on one replica (its TF Serving holds it LOADING): the fleet rejects it,
    // every replica unloads it, and the coordinator renames the directory once, after the last unload.
    const stuck = world.replicas.find((r) => r.id !== coordinator)!;
    await stuck.control("POST", "/faults/hold", { model: "m", version: 3 });
    publish(world.base, "3");
    await decided(world, "3", "reject");
    await stuck.control("DELETE", "/faults/hold", { model: "m", version: 3 });
    const three = await removedOnce(world, "3");
    // With one load slot the fleet rejects on the first failure: replicas that never loaded 3 have nothing to unload.
    const reports = Object.values(three.reports);
    assert.ok(three.reports[stuck.id], `the failing replica reported: ${JSON.stringify(three.reports)}`);
    for (const report of reports) {
      assert.equal(
        report.phase,
        "unloaded",
        `every replica that loaded 3 unloaded it: ${JSON.stringify(report)}`,
      );
      assert.ok(report.at <= three.removed!.at, `${report.replica} unloaded before the rename`);
    }
    assert.deepEqual(await holding(world, "3"), [], "no replica holds 3");
    assert.equal(three.removed!.by, await world.observer.coordinator("m"));
    assert.equal(applied(world, "quarantine").length, 1, "one rename in the whole fleet");
    assert.deepEqual(await world.stables(), ["2", "2", "2"], "every replica still serves 2");

    // 3. The coordinator SIGKILLed while version 4 is loading: another replica takes over from the records in etcd.
    const first = indexOf(world, await world.observer.coordinator("m"));
    publish(world.base, "4", { load_delay_ms: 1000 });
    await reportsOf(world, "4", "loading", 1);
    await world.killDaemon(first);
    const others = ALL.filter((i) => i !== first);
    await allOn(world, "4", others);
    const four = (await rolloutOf(world, "4"))!;
    assert.equal(four.decision?.verdict, "promote");
    assert.notEqual(four.decision?.by, world.replicas[first]!.id, "decided by the new coordinator");
    world.startDaemon(first);
    await allOn(world, "4");
    assert.equal((await world.observer.rollouts("m")).filter((r) => r.version === "4").length, 1);
    assert.ok(!readdirSync(world.base).some((n) => n.includes("rejected-4")), "4 was never renamed");

    // 4. The coordinator SIGKILLed between a reject decision and the removal: its successor takes the directory
    // off the store, once.
    const leader = indexOf(world, await world.observer.coordinator("m"));
    const failing = world.replicas[ALL.find((i) => i !== leader)!]!;
    await failing.control("POST", "/faults/hold", { model: "m", version: 5 });
    publish(world.base, "5");
    await decided(world, "5", "reject");
    await world.killDaemon(leader);
    await failing.control("DELETE", "/faults/hold", { model: "m", version: 5 });
    const five = await removedOnce(world, "5");
    assert.notEqual(five.removed!.by, world.replicas[leader]!.id, "removed by the successor");
    world.startDaemon(leader);
    await allOn(world, "4");
    assert.deepEqual(await holding(world, "5"), [], "no replica holds the rejected 5");
  },
);
