import assert from "node:assert/strict";
import { test } from "node:test";
import type { GateCheck, GateResult } from "../src/gate/gate-result.js";
import { JOURNAL_MAX_CHECKS, JOURNAL_MAX_DETAIL, journalGateResult } from "../src/gate/journal-form.js";

const huge = "x".repeat(50_000);

test("a result of any size becomes bounded, JSON-safe, and keeps every failing check first", () => {
  const checks: GateCheck[] = Array.from({ length: 500 }, (_, i) => ({
    name: `check ${i}`,
    passed: i !== 400,
    detail: huge,
    numbers: { ok: i, bad: Infinity, nan: NaN },
  }));
  const result: GateResult = {
    passed: false,
    checks,
    durationMs: 12.7,
    failingExchange: { request: { inputs: { x: huge } }, response: { elapsedMs: Infinity, error: huge } },
  };
  const bounded = journalGateResult(result);
  const text = JSON.stringify(bounded);
  assert.ok(text.length < 100_000, `${text.length} bytes`);
  assert.deepEqual(JSON.parse(text), bounded, "round-trips through JSON unchanged");
  assert.equal(bounded.checks.length, JOURNAL_MAX_CHECKS);
  assert.ok(
    bounded.checks.some((c) => c.name === "check 400" && !c.passed),
    "the failing check is kept",
  );
  assert.deepEqual(bounded.checks.at(-1), {
    name: "more checks",
    passed: true,
    detail: "441 check(s) left out of the journal (0 failing)",
    numbers: { dropped: 441, droppedFailing: 0 },
  });
  assert.deepEqual(bounded.checks[0]!.numbers, { ok: 0 });
  assert.ok(bounded.checks[0]!.detail.length <= JOURNAL_MAX_DETAIL + 1);
  assert.equal(bounded.durationMs, 13);
  assert.equal(bounded.failingExchange?.response.elapsedMs, "Infinity");
  assert.equal(bounded.passed, false);
});

test("a small result is kept as it is", () => {
  const result: GateResult = {
    passed: true,
    checks: [
      { name: "latency budget", passed: true, detail: "within budget", numbers: { candidateP99Ms: 3.5 } },
    ],
    durationMs: 4,
  };
  assert.deepEqual(journalGateResult(result), result);
});
