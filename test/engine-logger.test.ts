import assert from "node:assert/strict";
import { test } from "node:test";
import { createEngineLogger, logStep, prettyLine, stepVersion } from "../src/engine/logger.js";

test("one JSON event per step with model, version, step, outcome, duration_ms and reason", () => {
  const lines: string[] = [];
  const log = createEngineLogger({ write: (l) => lines.push(l) });
  logStep(log, {
    step: { kind: "gate", model: "m", version: "3", stable: "2" },
    outcome: "failed",
    durationMs: 12,
    reason: "output y has NaN",
    details: { checks: [{ name: "predict", passed: false }] },
  });
  assert.equal(lines.length, 1);
  const event = JSON.parse(lines[0]!) as Record<string, unknown>;
  assert.deepEqual(
    {
      model: event.model,
      version: event.version,
      step: event.step,
      outcome: event.outcome,
      duration_ms: event.duration_ms,
      reason: event.reason,
    },
    {
      model: "m",
      version: "3",
      step: "gate",
      outcome: "failed",
      duration_ms: 12,
      reason: "output y has NaN",
    },
  );
  assert.equal(event.level, 40);
  assert.deepEqual(event.checks, [{ name: "predict", passed: false }]);
});

test("--pretty prints one readable line, key fields first", () => {
  const lines: string[] = [];
  const log = createEngineLogger({ write: (l) => lines.push(l), pretty: true });
  logStep(log, {
    step: { kind: "admit", model: "m", candidate: "2", skipped: [] },
    outcome: "ok",
    durationMs: 3,
    reason: "candidate 2",
  });
  assert.match(
    lines[0]!,
    /^\d\d:\d\d:\d\d\.\d{3} INFO {2}model=m version=2 step=admit outcome=ok duration_ms=3 reason=candidate 2 admit m 2: ok\n$/,
  );
  assert.equal(prettyLine("not json"), "not json");
});

test("stepVersion names the version a step is about", () => {
  assert.equal(
    stepVersion({ kind: "trim", model: "m", config: { specific: ["3"], labels: {} }, dropped: ["1", "2"] }),
    "1,2",
  );
  assert.equal(stepVersion({ kind: "set-pin", model: "m", pin: null }), undefined);
});
