import assert from "node:assert/strict";
import { test } from "node:test";
import { DEFAULT_PREFIX, FleetKeys, keySegment } from "../src/fleet/etcd-keys.js";

test("the key layout of src/fleet/backend.ts under the fleet's prefix", () => {
  const keys = new FleetKeys(DEFAULT_PREFIX);
  assert.equal(keys.member("r1"), "/tfs-rollout/members/r1");
  assert.equal(keys.election("m"), "/tfs-rollout/election/m/");
  assert.equal(keys.rollout("m", "12"), "/tfs-rollout/rollouts/m/12");
  assert.equal(keys.report("m", "12", "r1"), "/tfs-rollout/reports/m/12/r1");
  assert.equal(keys.slot("m", "r1"), "/tfs-rollout/slots/m/r1");
  assert.equal(keys.intent("m", "op"), "/tfs-rollout/intents/m/op");
});

test("a changed key maps back to its model; members and other fleets' keys map to none", () => {
  const keys = new FleetKeys("/fleet-a/");
  assert.equal(keys.modelOf("/fleet-a/reports/m/12/r1"), "m");
  assert.equal(keys.modelOf("/fleet-a/election/other/7587"), "other");
  assert.equal(keys.modelOf("/fleet-a/members/r1"), undefined);
  assert.equal(keys.modelOf("/fleet-b/rollouts/m/1"), undefined);
  assert.equal(keys.modelOf("/fleet-a/rollouts/"), undefined);
});

test("a replica id or model name that would shift the layout is refused", () => {
  assert.equal(keySegment("replica id", "tfs-0"), "tfs-0");
  for (const bad of ["", "a/b", "a\0b"])
    assert.throws(() => keySegment("replica id", bad), /cannot be an etcd key segment/);
});
