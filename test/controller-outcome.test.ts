import assert from "node:assert/strict";
import { test } from "node:test";
import { applyOutcome, controllerRecord } from "../src/controller/outcome.js";
import type { Step } from "../src/controller/types.js";
import { managed, T0 } from "./helpers/controller-world.js";

const load: Step = {
  kind: "load",
  model: "m",
  config: { specific: ["2", "3"], labels: { stable: "2" } },
  version: "3",
};

test("a config step records what was written, also when only the reload failed", () => {
  const { d } = managed(["2"], "2");
  assert.deepEqual(applyOutcome(d, load, { ok: true, reason: "" }, T0).desired.lastWritten, load.config);
  assert.equal(applyOutcome(d, load, { ok: true, reason: "" }, T0).desired.progress["3"]?.loadStartedAt, T0);
  const reloadFailed = applyOutcome(d, load, { ok: false, reason: "UNAVAILABLE", written: true }, T0).desired;
  assert.deepEqual(reloadFailed.lastWritten, load.config);
  assert.equal(reloadFailed.progress["3"], undefined, "the deadline starts only after a successful load");
  const notWritten = applyOutcome(d, load, { ok: false, reason: "conflict" }, T0).desired;
  assert.deepEqual(notWritten.lastWritten, d.lastWritten);
});

test("the fold clears the in-flight step and never mutates its input", () => {
  const { d } = managed(["2"], "2");
  d.inFlight = { id: "j1", step: load, startedAt: T0 };
  const before = structuredClone(d);
  const after = applyOutcome(d, load, { ok: true, reason: "" }, T0).desired;
  assert.equal(after.inFlight, undefined);
  assert.deepEqual(d, before);
});

test("a failed gate records the gate result and the failure", () => {
  const { d } = managed(["2", "3"], "2");
  const gate: Step = { kind: "gate", model: "m", version: "3", stable: "2" };
  const p = applyOutcome(d, gate, { ok: false, reason: "output y has NaN" }, T0).desired.progress["3"];
  assert.deepEqual(p?.gate, { passed: false, reason: "output y has NaN", at: T0 });
  assert.deepEqual(p?.failure, {
    reason: "gate failed: output y has NaN",
    at: T0,
    by: "daemon",
    allowServing: false,
  });
});

test("intents: set-pin and finish-intent consume; a refused rollback releases the versions it marked", () => {
  const { d } = managed(["2", "3"], "3");
  d.intents = [{ id: "i1", by: "cli:op", at: T0, kind: "rollback", to: "2" }];
  const started = applyOutcome(
    d,
    { kind: "start-rollback", model: "m", intentId: "i1", target: "2", reject: ["3"], action: "rename" },
    { ok: true, reason: "", by: "cli:op" },
    T0,
  ).desired;
  assert.deepEqual(started.progress["3"]?.failure, {
    reason: "operator rollback to 2",
    at: T0,
    by: "cli:op",
    allowServing: true,
  });
  assert.equal(started.intents.length, 1, "the intent stays until the rollback finishes");
  const refused = applyOutcome(
    started,
    { kind: "finish-intent", model: "m", intentId: "i1", outcome: "refused", reason: "target failed" },
    { ok: true, reason: "" },
    T0,
  );
  assert.equal(refused.consumedIntent, "i1");
  assert.deepEqual(refused.desired.intents, []);
  assert.equal(refused.desired.rollback, undefined);
  assert.equal(refused.desired.progress["3"]?.failure, undefined);
  const pinned = applyOutcome(
    refused.desired,
    { kind: "set-pin", model: "m", pin: { version: "3", by: "cli:op", at: T0 }, intentId: "i2" },
    { ok: true, reason: "" },
    T0,
  );
  assert.equal(pinned.desired.pin?.version, "3");
  assert.equal(pinned.consumedIntent, "i2");
});

test("rejection keeps the quarantine name in the verdict and drops the rollout progress", () => {
  const { d } = managed(["2"], "2");
  d.progress["3"] = {
    failure: { reason: "END", at: T0, by: "daemon", allowServing: false },
    quarantinedAs: ".rejected-3-x",
  };
  const rejected = applyOutcome(
    d,
    { kind: "record-verdict", model: "m", version: "3", verdict: "rejected", reason: "END" },
    { ok: true, reason: "" },
    T0,
  ).desired;
  assert.deepEqual(rejected.verdicts["3"], {
    verdict: "rejected",
    reason: "END",
    at: T0,
    by: "daemon",
    quarantinedAs: ".rejected-3-x",
  });
  assert.equal(rejected.progress["3"], undefined);
  assert.deepEqual(Object.keys(controllerRecord(rejected)).sort(), [
    "lastWritten",
    "pin",
    "progress",
    "promote",
    "reloadPending",
    "retention",
    "rollback",
    "verdicts",
    "verified",
  ]);
});
