import assert from "node:assert/strict";
import { test } from "node:test";
import { createHeartbeat } from "../src/systemd/heartbeat.js";

test("alive until staleAfterMs pass without a beat; a beat revives it", () => {
  let now = 1000;
  const heartbeat = createHeartbeat(500, () => now);
  assert.equal(heartbeat.isAlive(), true);
  now = 1500;
  assert.equal(heartbeat.isAlive(), true);
  now = 1501;
  assert.equal(heartbeat.isAlive(), false);
  heartbeat.beat();
  now = 1900;
  assert.equal(heartbeat.isAlive(), true);
});
