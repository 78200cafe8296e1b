import assert from "node:assert/strict";
import { test } from "node:test";
import { livenessFromHeartbeat, readinessFrom } from "../src/ops/health.js";
import { createHeartbeat } from "../src/systemd/heartbeat.js";

test("liveness follows the main loop heartbeat", () => {
  let now = 0;
  const heartbeat = createHeartbeat(1000, () => now);
  const livez = livenessFromHeartbeat(heartbeat);
  assert.deepEqual(livez(), { ok: true });
  now = 1001;
  const stale = livez();
  assert.equal(stale.ok, false);
  assert.match(stale.reasons![0]!, /heartbeat is stale/);
  heartbeat.beat();
  assert.deepEqual(livez(), { ok: true });
});

test("readiness lists every failing condition by name", async () => {
  let configLoaded = false;
  const readyz = readinessFrom({
    config: () => (configLoaded ? undefined : "daemon config not loaded yet"),
    tfserving: async () => "127.0.0.1:8500 unreachable",
    throws: () => {
      throw new Error("probe bug");
    },
  });
  assert.deepEqual(await readyz(), {
    ok: false,
    reasons: [
      "config: daemon config not loaded yet",
      "tfserving: 127.0.0.1:8500 unreachable",
      "throws: probe bug",
    ],
  });
  configLoaded = true;
  const ready = readinessFrom({
    config: () => (configLoaded ? undefined : "no"),
    tfserving: async () => undefined,
  });
  assert.deepEqual(await ready(), { ok: true, reasons: [] });
});
