// Fleet steps as events: every fleet step names its version (the log's one event per step with model, version,
// step, outcome, duration), and the fleet-decide outcome says which version was decided.
import assert from "node:assert/strict";
import { test } from "node:test";
import type { FleetStep } from "../src/controller/types.js";
import { applyFleetStep } from "../src/engine/fleet-steps.js";
import { createEngineLogger, logStep, stepVersion } from "../src/engine/logger.js";
import { MemoryFleet } from "../src/fleet/memory-backend.js";

const STEPS: FleetStep[] = [
  { kind: "fleet-open", model: "m", version: "7", reason: "newest" },
  { kind: "fleet-acquire-slot", model: "m", version: "7", max: 1 },
  { kind: "fleet-report", model: "m", version: "7", phase: "passed", reason: "gate passed" },
  { kind: "fleet-release-slot", model: "m", version: "7", reason: "reported passed" },
  { kind: "fleet-decide", model: "m", version: "7", verdict: "promote", reason: "passed on all 1" },
  { kind: "fleet-mark-removed", model: "m", version: "7", as: ".rejected-7-x" },
];

test("every fleet step kind names its version for the step event", () => {
  for (const step of STEPS) assert.equal(stepVersion(step), "7", step.kind);
});

test("a fleet step's log event carries model, version, step, outcome and duration", () => {
  const lines: string[] = [];
  const log = createEngineLogger({ write: (line) => lines.push(line) });
  logStep(log, { step: STEPS[4]!, outcome: "ok", durationMs: 3, reason: "promote 7: passed on all 1" });
  const event = JSON.parse(lines[0] ?? "{}") as Record<string, unknown>;
  assert.equal(event.model, "m");
  assert.equal(event.version, "7");
  assert.equal(event.step, "fleet-decide");
  assert.equal(event.outcome, "ok");
  assert.equal(event.duration_ms, 3);
  assert.match(String(event.msg), /^fleet-decide m 7: ok$/);
});

test("the fleet-decide outcome names the decided version, also when it was decided already", async () => {
  const fleet = new MemoryFleet();
  const backend = fleet.replica("r1");
  await backend.start();
  assert.equal(await backend.openRollout("m", "7"), true);
  const decided = await applyFleetStep(backend, STEPS[4]!);
  assert.deepEqual(decided, { ok: true, reason: "promote 7: passed on all 1" });
  const again = await applyFleetStep(backend, STEPS[4]!);
  assert.deepEqual(again, { ok: false, reason: "7 was already decided" });
  await backend.stop();
});
