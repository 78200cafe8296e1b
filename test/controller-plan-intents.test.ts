// Operator intents as a process that has only just looked sees the disk (an operator command driving the
// reconcile itself): settled versions are `unchecked`, fresh ones `pending` until the quiet window has passed.
import assert from "node:assert/strict";
import { test } from "node:test";
import { applyOutcome } from "../src/controller/outcome.js";
import { plan } from "../src/controller/plan.js";
import type { DiskVersion, Intent, Step } from "../src/controller/types.js";
import { execute, kinds, managed, observe, OPTS, run, T0 } from "./helpers/controller-world.js";

const intent = (fields: Record<string, unknown> & { kind: Intent["kind"] }): Intent =>
  ({ id: `i-${fields.kind}`, by: "cli:alice", at: T0, ...fields }) as Intent;

const withAdmission = (disk: DiskVersion[], version: string, admission: DiskVersion["admission"]) =>
  disk.map((v) => (v.version === version ? { ...v, admission } : v));

test("rollback --to a promoted version the scan no longer reads (unchecked) loads it and moves stable back", () => {
  const { d, w } = managed(["2", "3"], "3", ["1", "2", "3"]);
  d.verdicts["1"] = { verdict: "promoted", reason: "long ago", at: T0 - 500_000, by: "daemon" };
  w.disk = withAdmission(w.disk, "1", "unchecked");
  d.intents = [intent({ kind: "rollback", to: "1" })];
  const result = run(d, w);
  assert.deepEqual(kinds(result.steps).slice(0, 5), [
    "start-rollback",
    "load",
    "await-available",
    "promote",
    "verify",
  ]);
  assert.deepEqual(w.config.labels, { stable: "1" });
  assert.equal(result.steps.at(-1)?.kind, "finish-intent");
});

test("a rollback target still pending (just looked at) is accepted and waited for until complete", () => {
  const { d, w } = managed(["2", "3"], "3", ["1", "2", "3"]);
  w.disk = withAdmission(w.disk, "1", "pending");
  d.intents = [intent({ kind: "rollback", to: "1" })];
  const first = run(d, w);
  assert.deepEqual(kinds(first.steps), ["start-rollback"]);
  const wait = first.last.steps[0];
  assert.equal(wait?.kind === "wait" && wait.reason, "target-missing", first.last.reason);
  assert.deepEqual(w.config.labels, { stable: "3" }, "nothing moves while the target is pending");
  w.disk = withAdmission(w.disk, "1", "complete");
  const second = run(first.desired, w);
  assert.deepEqual(w.config.labels, { stable: "1" });
  assert.equal(second.steps.at(-1)?.kind, "finish-intent");
});

test("a skipped or incomplete (unchecked) target is refused: retry it first so it is checked again", () => {
  for (const verdict of ["skipped", "incomplete"] as const) {
    const { d, w } = managed(["2", "3"], "3", ["1", "2", "3"]);
    d.verdicts["1"] = { verdict, reason: "superseded", at: T0 - 5, by: "daemon" };
    w.disk = withAdmission(w.disk, "1", "unchecked");
    d.intents = [intent({ kind: "rollback", to: "1" })];
    const step = plan({ ...d, disk: w.disk }, observe(w), OPTS).steps[0] as Step;
    assert.equal(step.kind === "finish-intent" && step.outcome, "refused", verdict);
    assert.match(step.kind === "finish-intent" ? step.reason : "", /retry it first/);
  }
});

test("promote without a version picks a newer version still pending, then waits for it to complete", () => {
  const { d, w } = managed(["2"], "2", ["2", "3"]);
  w.disk = withAdmission(w.disk, "3", "pending");
  d.intents = [intent({ kind: "promote" })];
  const first = run(d, w);
  const start = first.steps[0];
  assert.equal(start?.kind === "start-promote" && start.version, "3");
  assert.equal(first.last.steps[0]?.kind, "wait");
  w.disk = withAdmission(w.disk, "3", "complete");
  const second = run(first.desired, w);
  assert.deepEqual(w.config.labels, { stable: "3" });
  assert.ok(kinds(second.steps).includes("gate"), "gates run");
});

test("an operator target that is gone or will never load ends the intent (refused) instead of waiting forever", () => {
  const { d, w } = managed(["2"], "2", ["2", "3"]);
  w.disk = withAdmission(w.disk, "3", "overdue");
  d.promote = { intentId: "i-promote", version: "3", skipGates: false };
  d.intents = [intent({ kind: "promote", version: "3" })];
  const step = plan({ ...d, disk: w.disk }, observe(w), OPTS).steps[0] as Step;
  assert.equal(step.kind === "finish-intent" && step.outcome, "refused");
  assert.match(step.kind === "finish-intent" ? step.reason : "", /promote target 3 is overdue on disk/);

  const rb = managed(["2", "3"], "3", ["1", "2", "3"]);
  rb.d.intents = [intent({ kind: "rollback", to: "1" })];
  const start = plan(rb.d, observe(rb.w), OPTS).steps[0] as Step;
  assert.equal(start.kind, "start-rollback");
  const started = applyOutcome(rb.d, start, execute(rb.w, start), T0).desired;
  rb.w.disk = rb.w.disk.filter((v) => v.version !== "1"); // deleted by hand meanwhile
  const after = run(started, rb.w);
  const finish = after.steps.find((s) => s.kind === "finish-intent");
  assert.equal(finish?.kind === "finish-intent" && finish.outcome, "refused");
  assert.match(
    finish?.kind === "finish-intent" ? finish.reason : "",
    /rollback target 1 is no longer on disk/,
  );
  assert.deepEqual(rb.w.config.labels, { stable: "3" }, "stable stays");
  assert.equal(after.desired.progress["3"]?.failure, undefined, "the newer versions are no longer taken out");
});
