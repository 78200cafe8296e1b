import assert from "node:assert/strict";
import { test } from "node:test";
import { applyOutcome } from "../src/controller/outcome.js";
import { plan } from "../src/controller/plan.js";
import type { DesiredState, PlanOptions, Step } from "../src/controller/types.js";
import { kinds, managed, observe, OPTS, run, T0, type World } from "./helpers/controller-world.js";

const HOUR = 3_600_000;
const closed = (opensAt = T0 + HOUR): PlanOptions => ({
  ...OPTS,
  window: { open: false, detail: "outside every promotion window", opensAt },
});
const open: PlanOptions = { ...OPTS, window: { open: true, detail: "inside window" } };
const approval = (onTimeout: "reject" | "promote", extra: Partial<PlanOptions> = {}): PlanOptions => ({
  ...OPTS,
  approval: { required: true, timeoutMs: HOUR, onTimeout },
  ...extra,
});

/** Stable 1 serving; version 2 complete on disk. */
function world(): { d: DesiredState; w: World } {
  return managed(["1"], "1", ["1", "2"]);
}

function waitOf(last: { steps: Step[] }): Extract<Step, { kind: "wait" }> {
  const step = last.steps[0];
  assert.equal(step?.kind, "wait");
  return step as Extract<Step, { kind: "wait" }>;
}

test("a candidate that passed its gate outside every window is labelled canary and waits until the window opens", () => {
  const { d, w } = world();
  const first = run(d, w, closed());
  assert.deepEqual(kinds(first.steps), ["admit", "load", "await-available", "gate", "canary"]);
  assert.deepEqual(w.config.labels, { canary: "2", stable: "1" });
  const wait = waitOf(first.last);
  assert.equal(wait.reason, "window");
  assert.equal(wait.until, T0 + HOUR);
  assert.match(wait.detail, /candidate 2 \(labelled canary\) waits for a promotion window/);

  // Planning again while still closed changes nothing.
  assert.equal(plan(first.desired, observe(w), closed()).steps[0]?.kind, "wait");

  const second = run(first.desired, w, open);
  assert.deepEqual(kinds(second.steps), ["promote", "verify"]);
  const promote = second.steps[0] as Extract<Step, { kind: "promote" }>;
  assert.deepEqual(promote.config.labels, { stable: "2" }, "canary goes in the same reload as stable moves");
  assert.deepEqual(w.config.labels, { stable: "2" });
  assert.equal(second.desired.verdicts["2"]?.verdict, "promoted");
});

test("inside a window (or with no window facts) the candidate is promoted without a canary label", () => {
  for (const options of [open, OPTS]) {
    const { d, w } = world();
    const result = run(d, w, options);
    assert.deepEqual(kinds(result.steps), ["admit", "load", "await-available", "gate", "promote", "verify"]);
    assert.deepEqual(w.config.labels, { stable: "2" });
  }
});

test("a gate that fails while the window is closed rejects the candidate: no canary label", () => {
  const { d, w } = world();
  w.behaviour["2"] = "gate-fail";
  const result = run(d, w, closed());
  assert.ok(!kinds(result.steps).includes("canary"));
  assert.equal(result.desired.verdicts["2"]?.verdict, "rejected");
  assert.deepEqual(w.config.labels, { stable: "1" });
});

test("with approval required the held candidate requests approval once and waits until its timeout", () => {
  const { d, w } = world();
  const result = run(d, w, approval("reject"));
  assert.deepEqual(kinds(result.steps), [
    "admit",
    "load",
    "await-available",
    "gate",
    "canary",
    "request-approval",
  ]);
  const request = result.steps.at(-1) as Extract<Step, { kind: "request-approval" }>;
  assert.equal(request.version, "2");
  assert.match(request.reason, /tfs-rollout promote m/);
  const deadline = request.deadline;
  assert.deepEqual(result.desired.progress["2"]?.approval?.deadline, deadline);
  const wait = waitOf(result.last);
  assert.equal(wait.reason, "approval");
  assert.equal(wait.until, deadline);
  // Asked once: the next plans only wait.
  w.now = deadline - 1;
  assert.equal(plan(result.desired, observe(w), approval("reject")).steps[0]?.kind, "wait");
});

test("a promote intent gives the approval (and overrides a closed window): promoted, canary removed", () => {
  for (const options of [approval("reject"), closed(), approval("reject", { window: closed().window })]) {
    const { d, w } = world();
    const held = run(d, w, options);
    assert.equal(waitOf(held.last).kind, "wait");
    const withIntent: DesiredState = {
      ...held.desired,
      intents: [{ id: "i1", by: "cli:alice", at: w.now, kind: "promote" }],
    };
    const result = run(withIntent, w, options);
    assert.deepEqual(kinds(result.steps), ["start-promote", "promote", "verify", "finish-intent"]);
    assert.deepEqual(w.config.labels, { stable: "2" });
    assert.equal(result.desired.intents.length, 0);
  }
});

test("approval timeout with on_timeout reject: the candidate is rolled back off disk, stable unchanged", () => {
  const { d, w } = world();
  const held = run(d, w, approval("reject"));
  w.now = waitOf(held.last).until as number;
  const result = run(held.desired, w, approval("reject"));
  assert.deepEqual(kinds(result.steps), ["mark-failed", "rollback-config", "quarantine", "record-verdict"]);
  assert.match((result.steps[0] as Extract<Step, { kind: "mark-failed" }>).reason, /approval timed out/);
  assert.deepEqual(w.config.labels, { stable: "1" });
  assert.deepEqual(w.config.policy, { kind: "specific", versions: ["1"] });
  assert.ok(w.quarantined["2"]?.startsWith(".rejected-2-"));
  assert.equal(result.desired.verdicts["2"]?.verdict, "rejected");
  assert.equal(result.last.steps.length, 0, "converged");
});

test("approval timeout with on_timeout promote: promoted, but still only inside a window", () => {
  const { d, w } = world();
  const held = run(d, w, approval("promote", { window: closed(T0 + 5 * HOUR).window }));
  w.now = waitOf(held.last).until as number;
  const stillClosed = run(held.desired, w, approval("promote", { window: closed(T0 + 5 * HOUR).window }));
  assert.deepEqual(stillClosed.steps, []);
  assert.equal(waitOf(stillClosed.last).reason, "window");
  const result = run(stillClosed.desired, w, approval("promote", { window: open.window }));
  assert.deepEqual(kinds(result.steps), ["promote", "verify"]);
  assert.deepEqual(w.config.labels, { stable: "2" });
});

test("a pin holds before the window: the wait says pinned", () => {
  const { d, w } = world();
  d.pin = { version: "1", by: "cli:bob", at: T0 };
  const result = run(d, w, closed());
  assert.equal(waitOf(result.last).reason, "pinned");
  assert.ok(!kinds(result.steps).includes("canary"));
});

test("the window hold is a candidate's only: an operator's pin target is not held", () => {
  const { d, w } = managed(["1", "2"], "1", ["1", "2"]);
  d.verdicts["2"] = { verdict: "promoted", reason: "earlier", at: T0 - 1, by: "daemon" };
  d.pin = { version: "2", by: "cli:bob", at: T0 };
  const result = run(d, w, closed());
  assert.ok(kinds(result.steps).includes("promote"));
  assert.equal(w.config.labels.stable, "2");
});

test("request-approval folds into the candidate's progress; the record keeps it", () => {
  const { d } = world();
  const step: Step = { kind: "request-approval", model: "m", version: "2", deadline: T0 + HOUR, reason: "r" };
  const folded = applyOutcome(d, step, { ok: true, reason: "r" }, T0).desired;
  assert.deepEqual(folded.progress["2"]?.approval, { requestedAt: T0, deadline: T0 + HOUR });
});

test("an operator who takes the canary label off by hand is not overruled: the candidate keeps waiting unlabelled", () => {
  const { d, w } = world();
  const held = run(d, w, closed());
  w.config = { ...w.config, labels: { stable: "1" } };
  const result = run(held.desired, w, closed());
  assert.deepEqual(kinds(result.steps), ["accept-hand-edit"]);
  assert.equal(waitOf(result.last).reason, "window");
  assert.deepEqual(w.config.labels, { stable: "1" });
  const promoted = run(result.desired, w, open);
  assert.deepEqual(kinds(promoted.steps), ["promote", "verify"]);
});

test("an operator promoting another version while a candidate is held also takes the candidate's canary label off", () => {
  const { d, w } = managed(["1"], "1", ["1", "2", "3"]);
  d.verdicts["2"] = { verdict: "skipped", reason: "older", at: T0, by: "daemon" };
  const held = run(d, w, closed());
  assert.deepEqual(w.config.labels, { canary: "3", stable: "1" });
  // The operator promotes 2 instead: the held 3 loses its canary label in the same reload.
  const withIntent: DesiredState = {
    ...held.desired,
    intents: [{ id: "i2", by: "cli:alice", at: w.now, kind: "promote", version: "2" }],
  };
  delete withIntent.verdicts["2"];
  const result = run(withIntent, w, closed());
  const promote = result.steps.find((s) => s.kind === "promote") as Extract<Step, { kind: "promote" }>;
  assert.equal(promote.version, "2");
  assert.deepEqual(promote.config.labels, { stable: "2" });
});
