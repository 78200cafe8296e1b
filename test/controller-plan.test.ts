import assert from "node:assert/strict";
import { test } from "node:test";
import { applyOutcome } from "../src/controller/outcome.js";
import { plan } from "../src/controller/plan.js";
import type { DesiredState, Intent, ObservedState, Step } from "../src/controller/types.js";
import {
  complete,
  execute,
  kinds,
  managed,
  observe,
  OPTS,
  run,
  status,
  T0,
  type World,
} from "./helpers/controller-world.js";

const only = (d: DesiredState, o: ObservedState): Step => {
  const result = plan(d, o, OPTS);
  assert.equal(result.steps.length, 1, result.reason);
  return result.steps[0] as Step;
};

const intent = (fields: Record<string, unknown> & { kind: Intent["kind"] }): Intent =>
  ({ id: `i-${fields.kind}`, by: "cli:alice", at: T0, ...fields }) as Intent;

// ------------------------------------------------------------------------------------------------------------
// The happy path and the failure paths, end to end through the simulated world.

test("a good version is promoted in the exact order admit → load → await → gate → promote → verify → trim", () => {
  const { d, w } = managed(["1", "2"], "2", ["1", "2", "3"]);
  const result = run(d, w);
  assert.deepEqual(kinds(result.steps), [
    "admit",
    "load",
    "await-available",
    "gate",
    "promote",
    "verify",
    "trim",
  ]);
  assert.deepEqual(result.last.steps, [], result.last.reason);
  assert.deepEqual(w.config.policy, { kind: "specific", versions: ["2", "3"] });
  assert.deepEqual(w.config.labels, { stable: "3" });
  assert.equal(result.desired.verdicts["3"]?.verdict, "promoted");
  assert.equal(w.reloads, 3, "load, label move and trim are three separate reloads");
  const load = result.steps[1] as Extract<Step, { kind: "load" }>;
  assert.deepEqual(
    load.config,
    { specific: ["1", "2", "3"], labels: { stable: "2" } },
    "load leaves labels alone",
  );
  const promote = result.steps[4] as Extract<Step, { kind: "promote" }>;
  assert.deepEqual(promote.config, { specific: ["1", "2", "3"], labels: { stable: "3" } });
  assert.equal(promote.from, "2");
});

test("a failed gate rolls back: rollback-config → quarantine → record rejected, stable untouched", () => {
  const { d, w } = managed(["2"], "2", ["2", "3"]);
  w.behaviour["3"] = "gate-fail";
  const result = run(d, w);
  assert.deepEqual(kinds(result.steps), [
    "admit",
    "load",
    "await-available",
    "gate",
    "rollback-config",
    "quarantine",
    "record-verdict",
  ]);
  assert.deepEqual(w.config.policy, { kind: "specific", versions: ["2"] });
  assert.deepEqual(w.config.labels, { stable: "2" });
  assert.equal(w.quarantined["3"], ".rejected-3-20261121T120003Z");
  const verdict = result.desired.verdicts["3"];
  assert.equal(verdict?.verdict, "rejected");
  assert.match(verdict?.reason ?? "", /gate failed: output has NaN/);
  assert.equal(verdict?.quarantinedAs, ".rejected-3-20261121T120003Z");
  assert.deepEqual(result.last.steps, [], "a rejected number is not retried");
});

test("rollback.action delete deletes the rejected directory", () => {
  const { d, w } = managed(["2"], "2", ["2", "3"]);
  w.behaviour["3"] = "end";
  const result = run(d, w, { ...OPTS, rollbackAction: "delete" });
  const quarantine = result.steps.find((s) => s.kind === "quarantine");
  assert.equal(quarantine?.kind === "quarantine" && quarantine.action, "delete");
  assert.equal(result.desired.verdicts["3"]?.quarantinedAs, "deleted");
});

test("END during load fails the candidate: await fails, then the rollback", () => {
  const { d, w } = managed(["2"], "2", ["2", "3"]);
  w.behaviour["3"] = "end";
  const result = run(d, w);
  assert.deepEqual(kinds(result.steps), [
    "admit",
    "load",
    "await-available",
    "rollback-config",
    "quarantine",
    "record-verdict",
  ]);
  assert.match(result.desired.verdicts["3"]?.reason ?? "", /Could not find SavedModel/);
  assert.deepEqual(w.config.labels, { stable: "2" });
});

test("a version stuck in LOADING fails at the deadline", () => {
  const { d, w } = managed(["2"], "2", ["2", "3"]);
  w.behaviour["3"] = "stuck";
  const result = run(d, w);
  assert.deepEqual(kinds(result.steps), [
    "admit",
    "load",
    "await-available",
    "rollback-config",
    "quarantine",
    "record-verdict",
  ]);
  const awaited = result.steps[2] as Extract<Step, { kind: "await-available" }>;
  assert.equal(
    awaited.deadline,
    T0 + 1000 + OPTS.loadTimeoutMs,
    "the deadline counts from the completed load",
  );
  assert.match(result.desired.verdicts["3"]?.reason ?? "", /deadline/);
});

test("END observed by plan (after a restart) marks the candidate failed; past the deadline too", () => {
  const { d, w } = managed(["2", "3"], "2");
  d.verdicts["3"] = { verdict: "candidate", reason: "newest", at: T0, by: "daemon" };
  d.progress["3"] = { loadStartedAt: T0 };
  d.lastWritten = { specific: ["2", "3"], labels: { stable: "2" } };
  w.tf.set("3", status("3", "END", "Out of range: Read less bytes than requested"));
  assert.deepEqual(only(d, observe(w)), {
    kind: "mark-failed",
    model: "m",
    version: "3",
    reason: "load failed: UNKNOWN: Out of range: Read less bytes than requested",
  });
  w.tf.set("3", status("3", "LOADING"));
  assert.equal(only(d, observe(w)).kind, "await-available");
  w.now = T0 + OPTS.loadTimeoutMs;
  const late = only(d, observe(w));
  assert.equal(late.kind, "mark-failed");
  assert.match(late.kind === "mark-failed" ? late.reason : "", /not AVAILABLE within 60 s \(state LOADING\)/);
});

test("several new versions: only the newest is the candidate, older ones are skipped", () => {
  const { d, w } = managed(["2"], "2", ["1", "2", "3", "4", "5"]);
  const step = only(d, observe(w));
  assert.deepEqual(step, { kind: "admit", model: "m", candidate: "5", skipped: ["3", "4"] });
  const folded = applyOutcome(d, step, { ok: true, reason: "" }, T0).desired;
  assert.equal(folded.verdicts["4"]?.verdict, "skipped");
  assert.equal(
    folded.verdicts["1"]?.verdict,
    undefined,
    "versions below stable are never candidates nor skipped",
  );
});

test("admission: a newer version still copying holds admission; an overdue one is recorded incomplete", () => {
  const { d, w } = managed(["2"], "2");
  w.disk = [...complete("2", "3"), { version: "4", dirName: "4", admission: "pending" }];
  d.disk = w.disk;
  const held = only(d, observe(w));
  assert.equal(held.kind === "wait" && held.reason, "admission-pending");
  d.disk = [...complete("2"), { version: "4", dirName: "4", admission: "overdue" }];
  assert.deepEqual(only(d, observe(w)), {
    kind: "record-verdict",
    model: "m",
    version: "4",
    verdict: "incomplete",
    reason: "never completed before the admission deadline",
  });
});

// ------------------------------------------------------------------------------------------------------------
// Adoption.

function fresh(
  policy: World["config"]["policy"],
  labels: Record<string, string>,
  available: string[],
  other: ReturnType<typeof status>[] = [],
) {
  const { d, w } = managed(["1"], "1");
  w.config = { ...w.config, policy, labels };
  w.tf = new Map([
    ...available.map((v) => [v, status(v, "AVAILABLE")] as const),
    ...other.map((s) => [s.version, s] as const),
  ]);
  const desired: DesiredState = { ...d, verdicts: {}, lastWritten: undefined, verified: undefined };
  return { d: desired, w };
}

test("adoption: latest → specific listing what serves now, stable on the newest AVAILABLE", () => {
  const { d, w } = fresh({ kind: "latest", numVersions: 2 }, {}, ["1", "2"], [status("3", "LOADING")]);
  const step = only(d, observe(w));
  assert.equal(step.kind, "adopt");
  assert.deepEqual(step.kind === "adopt" && step.config, { specific: ["1", "2"], labels: { stable: "2" } });
  assert.equal(step.kind === "adopt" && step.from, "latest");
});

test("adoption keeps an existing stable label and other labels", () => {
  const { d, w } = fresh({ kind: "all" }, { stable: "1", canary: "2" }, ["1", "2", "3"]);
  const step = only(d, observe(w));
  assert.deepEqual(step.kind === "adopt" && step.config, {
    specific: ["1", "2", "3"],
    labels: { canary: "2", stable: "1" },
  });
});

test("adoption of a specific policy without stable sets it and keeps the list", () => {
  const { d, w } = fresh(
    { kind: "specific", versions: ["1", "2", "7"] },
    {},
    ["1", "2"],
    [status("7", "LOADING")],
  );
  const step = only(d, observe(w));
  assert.deepEqual(step.kind === "adopt" && step.config, {
    specific: ["1", "2", "7"],
    labels: { stable: "2" },
  });
});

test("adoption with nothing AVAILABLE yet waits; a label on a loading version waits too", () => {
  const { d, w } = fresh({ kind: "latest", numVersions: 1 }, {}, [], [status("1", "LOADING")]);
  const step = only(d, observe(w));
  assert.equal(step.kind === "wait" && step.reason, "nothing-available");
  const labelled = fresh(
    { kind: "latest", numVersions: 1 },
    { stable: "1", canary: "2" },
    ["1"],
    [status("2", "LOADING")],
  );
  const held = only(labelled.d, observe(labelled.w));
  assert.equal(held.kind === "wait" && held.reason, "unsafe-config");
});

test("after adoption the stable version is verified, then a candidate rolls out; nothing is trimmed", () => {
  const { d, w } = fresh({ kind: "latest", numVersions: 3 }, {}, ["1", "2", "3"]);
  d.disk = complete("1", "2", "3");
  w.disk = d.disk;
  const result = run(d, w);
  assert.deepEqual(kinds(result.steps), ["adopt", "verify"]);
  assert.deepEqual(
    w.config.policy,
    { kind: "specific", versions: ["1", "2", "3"] },
    "nothing it serves is unloaded",
  );
});

// ------------------------------------------------------------------------------------------------------------
// TF Serving unreachable, the model gone.

test("TF Serving unreachable: wait, even with a quarantine in flight or a failed candidate", () => {
  const { d, w } = managed(["2"], "2", ["2", "3"]);
  d.progress["3"] = { failure: { reason: "gate", at: T0, by: "daemon", allowServing: false } };
  d.inFlight = {
    id: "j1",
    startedAt: T0,
    step: {
      kind: "quarantine",
      model: "m",
      version: "3",
      basePath: "/models/m",
      dirName: "3",
      action: "delete",
      newName: "x",
      reason: "",
    },
  };
  w.reachable = false;
  const result = plan(d, observe(w), OPTS);
  assert.deepEqual(result.steps, [
    {
      kind: "wait",
      model: "m",
      reason: "unreachable",
      detail: "TF Serving is unreachable (connection refused); nothing is changed until it answers",
    },
  ]);
  const gone = plan(d, { ...observe(w), config: undefined }, OPTS);
  assert.equal(gone.steps[0]?.kind === "wait" && gone.steps[0].reason, "not-in-config");
});

// ------------------------------------------------------------------------------------------------------------
// Operator intents.

test("operator rollback: promote back, verify, remove and quarantine the newer version, finish", () => {
  const { d, w } = managed(["2", "3"], "3");
  d.intents = [intent({ kind: "rollback" })];
  const result = run(d, w);
  assert.deepEqual(kinds(result.steps), [
    "start-rollback",
    "promote",
    "verify",
    "rollback-config",
    "quarantine",
    "record-verdict",
    "finish-intent",
  ]);
  assert.deepEqual(w.config.policy, { kind: "specific", versions: ["2"] });
  assert.deepEqual(w.config.labels, { stable: "2" });
  assert.ok(w.quarantined["3"], "an explicit rollback may quarantine a version that served");
  assert.equal(result.desired.verdicts["3"]?.verdict, "rejected");
  assert.deepEqual(result.desired.intents, []);
  assert.equal(result.desired.rollback, undefined);
});

test("rollback --to a version no longer loaded: load it, wait for AVAILABLE, then move stable", () => {
  const { d, w } = managed(["2", "3"], "3", ["1", "2", "3"]);
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
  assert.deepEqual(w.config.policy, { kind: "specific", versions: ["1"] });
  assert.deepEqual(Object.keys(w.quarantined).sort(), ["2", "3"]);
});

test("rollback whose target fails to load is refused; stable and the newer versions stay", () => {
  const { d, w } = managed(["2", "3"], "3", ["1", "2", "3"]);
  w.behaviour["1"] = "end";
  d.verdicts["1"] = { verdict: "promoted", reason: "long ago", at: T0 - 500_000, by: "daemon" };
  d.intents = [intent({ kind: "rollback", to: "1" })];
  const result = run(d, w);
  assert.deepEqual(w.config.labels, { stable: "3" });
  assert.deepEqual(w.config.policy, { kind: "specific", versions: ["2", "3"] });
  assert.deepEqual(w.quarantined, {}, "1 had served (promoted earlier): rejected but its directory is kept");
  assert.equal(result.desired.verdicts["1"]?.verdict, "rejected");
  const finish = result.steps.find((s) => s.kind === "finish-intent");
  assert.equal(finish?.kind === "finish-intent" && finish.outcome, "refused");
  assert.equal(result.desired.progress["3"]?.failure, undefined);
});

test("rollback refusals: missing target, rejected target, nothing older, pinned", () => {
  const cases: [Intent, (d: DesiredState) => void, RegExp][] = [
    [intent({ kind: "rollback", to: "1" }), () => {}, /version 1 is not on disk/],
    [intent({ kind: "rollback", to: "5" }), () => {}, /not older than stable 3/],
    [
      intent({ kind: "rollback", to: "2" }),
      (d) => (d.verdicts["2"] = { verdict: "rejected", reason: "NaN", at: T0, by: "daemon" }),
      /version 2 was rejected \(NaN\); retry it first/,
    ],
    [
      intent({ kind: "rollback" }),
      (d) => (d.pin = { version: "3", by: "cli:bob", at: T0 }),
      /pinned to 3; unpin it first/,
    ],
  ];
  for (const [i, mutate, reason] of cases) {
    const { d, w } = managed(["2", "3"], "3");
    d.intents = [i];
    mutate(d);
    const step = only(d, observe(w));
    assert.equal(step.kind === "finish-intent" && step.outcome, "refused");
    assert.match(step.kind === "finish-intent" ? step.reason : "", reason);
  }
});

test("rollback waits while its target is still UNLOADING", () => {
  const { d, w } = managed(["3"], "3", ["2", "3"]);
  w.tf.set("2", status("2", "UNLOADING"));
  d.verdicts["2"] = { verdict: "promoted", reason: "", at: T0 - 5, by: "daemon" };
  d.intents = [intent({ kind: "rollback", to: "2" })];
  const started = only(d, observe(w));
  assert.equal(started.kind, "start-rollback");
  const next = applyOutcome(d, started, { ok: true, reason: "" }, T0).desired;
  const step = only(next, observe(w));
  assert.equal(step.kind === "wait" && step.reason, "unloading");
});

test("a pin blocks promotion: the candidate is gated, then waits", () => {
  const { d, w } = managed(["2"], "2", ["2", "3"]);
  d.intents = [intent({ kind: "pin", version: "2", reason: "freeze" })];
  const result = run(d, w);
  assert.deepEqual(kinds(result.steps), ["set-pin", "admit", "load", "await-available", "gate"]);
  assert.equal(result.last.steps[0]?.kind === "wait" && result.last.steps[0].reason, "pinned");
  assert.deepEqual(w.config.labels, { stable: "2" });
  result.desired.intents = [intent({ kind: "unpin" })];
  const after = run(result.desired, w);
  assert.deepEqual(kinds(after.steps), ["set-pin", "promote", "verify"]);
  assert.deepEqual(w.config.labels, { stable: "3" });
});

test("pinning another version moves stable there through the gate", () => {
  const { d, w } = managed(["3"], "3", ["2", "3"]);
  d.intents = [intent({ kind: "pin", version: "2" })];
  const result = run(d, w);
  assert.deepEqual(kinds(result.steps), ["set-pin", "load", "await-available", "gate", "promote", "verify"]);
  assert.deepEqual(w.config.labels, { stable: "2" });
});

test("a pinned older version that fails its gate is rejected but its directory is kept", () => {
  const { d, w } = managed(["3"], "3", ["2", "3"]);
  w.behaviour["2"] = "gate-fail";
  d.intents = [intent({ kind: "pin", version: "2" })];
  const result = run(d, w);
  assert.deepEqual(kinds(result.steps), [
    "set-pin",
    "load",
    "await-available",
    "gate",
    "rollback-config",
    "record-verdict",
  ]);
  assert.deepEqual(w.quarantined, {}, "only failed new candidates are taken off disk automatically");
  assert.match(result.desired.verdicts["2"]?.reason ?? "", /directory kept: only failed new candidates/);
  assert.deepEqual(w.config.labels, { stable: "3" });
  const held = result.last.steps[0];
  assert.equal(
    held?.kind === "wait" && held.reason,
    "pinned",
    "not converged while the pin names a rejected version",
  );
});

test("operator promote: refused while pinned elsewhere; skip-gates promotes without a gate", () => {
  const { d, w } = managed(["2"], "2", ["2", "3"]);
  d.pin = { version: "2", by: "cli:bob", at: T0 };
  d.intents = [intent({ kind: "promote", version: "3" })];
  const refused = only(d, observe(w));
  assert.equal(refused.kind === "finish-intent" && refused.outcome, "refused");
  delete d.pin;
  d.intents = [intent({ kind: "promote", skipGates: true })];
  const result = run(d, w);
  assert.deepEqual(kinds(result.steps), [
    "start-promote",
    "load",
    "await-available",
    "promote",
    "verify",
    "finish-intent",
  ]);
  assert.deepEqual(w.config.labels, { stable: "3" });
});

test("retry clears a rejection and restores the directory name; the number may then be put back", () => {
  const { d, w } = managed(["2"], "2", ["2"]);
  d.verdicts["3"] = {
    verdict: "rejected",
    reason: "NaN",
    at: T0,
    by: "daemon",
    quarantinedAs: ".rejected-3-x",
  };
  w.tf.set("3", status("3", "END", "failed"));
  d.intents = [intent({ kind: "retry", version: "3" })];
  const step = only(d, observe(w));
  assert.deepEqual(step, {
    kind: "clear-verdict",
    model: "m",
    version: "3",
    intentId: "i-retry",
    restoreFrom: ".rejected-3-x",
  });
  const next = applyOutcome(d, step, { ok: true, reason: "" }, T0);
  assert.equal(next.consumedIntent, "i-retry");
  w.disk = complete("2", "3");
  const after = run(next.desired, w);
  assert.deepEqual(kinds(after.steps).slice(0, 2), ["admit", "load"]);
});

test("a failed number that TF still lists as failed is not put back without a retry", () => {
  const { d, w } = managed(["2"], "2", ["2", "3"]);
  w.tf.set("3", status("3", "END", "boom"));
  d.verdicts["3"] = { verdict: "candidate", reason: "", at: T0, by: "daemon" };
  const step = only(d, observe(w));
  assert.equal(step.kind, "mark-failed");
  w.tf.set("3", status("3", "UNLOADING"));
  const waiting = only(d, observe(w));
  assert.equal(waiting.kind === "wait" && waiting.reason, "unloading");
});

// ------------------------------------------------------------------------------------------------------------
// Hand edits and crash recovery.

test("a hand edit moving stable is adopted as a manual promotion, then verified, never undone", () => {
  const { d, w } = managed(["2", "3"], "2");
  w.config.labels = { stable: "3" };
  const step = only(d, observe(w));
  assert.equal(step.kind, "accept-hand-edit");
  assert.deepEqual(step.kind === "accept-hand-edit" && step.changes, ["label stable: 2 → 3"]);
  const result = run(d, w);
  assert.deepEqual(kinds(result.steps), ["accept-hand-edit", "verify"]);
  assert.equal(result.desired.verdicts["3"]?.by, "hand-edit");
  assert.deepEqual(w.config.labels, { stable: "3" });
});

test("a hand edit removing the candidate during its rollout is the operator's decision", () => {
  const { d, w } = managed(["2", "3"], "2");
  d.verdicts["3"] = { verdict: "candidate", reason: "", at: T0, by: "daemon" };
  d.progress["3"] = { loadStartedAt: T0 };
  d.lastWritten = { specific: ["2", "3"], labels: { stable: "2" } };
  w.config.policy = { kind: "specific", versions: ["2"] };
  const result = run(d, w);
  assert.deepEqual(kinds(result.steps), ["accept-hand-edit"]);
  assert.equal(result.desired.verdicts["3"]?.verdict, "skipped");
  assert.deepEqual(w.quarantined, {});
});

test("a candidate left below stable by a hand edit is skipped, never promoted backwards", () => {
  const { d, w } = managed(["2", "3", "4"], "2");
  d.verdicts["3"] = { verdict: "candidate", reason: "", at: T0, by: "daemon" };
  d.verdicts["4"] = { verdict: "skipped", reason: "", at: T0, by: "daemon" };
  d.progress["3"] = { loadStartedAt: T0 };
  w.config.labels = { stable: "4" };
  const result = run(d, w);
  assert.deepEqual(kinds(result.steps), ["accept-hand-edit", "verify", "record-verdict"]);
  assert.equal(result.desired.verdicts["3"]?.verdict, "skipped");
  assert.deepEqual(w.config.labels, { stable: "4" });
});

test("crash recovery: an in-flight load already written is resumed, a hand-edited one abandoned", () => {
  const { d, w } = managed(["2"], "2", ["2", "3"]);
  d.verdicts["3"] = { verdict: "candidate", reason: "", at: T0, by: "daemon" };
  const load: Step = {
    kind: "load",
    model: "m",
    config: { specific: ["2", "3"], labels: { stable: "2" } },
    version: "3",
  };
  d.inFlight = { id: "j7", step: load, startedAt: T0 };
  // Before the write: the file still holds what was last written.
  assert.deepEqual(plan(d, observe(w), OPTS), {
    steps: [load],
    reason: "resuming unfinished load",
    resumes: "j7",
  });
  // After the write: the file holds the step's config.
  w.config.policy = { kind: "specific", versions: ["2", "3"] };
  w.tf.set("3", status("3", "LOADING"));
  assert.equal(plan(d, observe(w), OPTS).resumes, "j7");
  // Someone else changed the file meanwhile.
  w.config.policy = { kind: "specific", versions: ["1", "2"] };
  const step = only(d, observe(w));
  assert.equal(step.kind, "abandon");
});

test("crash recovery: an in-flight promote whose version is no longer AVAILABLE is abandoned, not applied", () => {
  const { d, w } = managed(["2", "3"], "2");
  d.verdicts["3"] = { verdict: "candidate", reason: "", at: T0, by: "daemon" };
  const promote: Step = {
    kind: "promote",
    model: "m",
    config: { specific: ["2", "3"], labels: { stable: "3" } },
    version: "3",
  };
  d.inFlight = { id: "j9", step: promote, startedAt: T0 };
  d.lastWritten = { specific: ["2", "3"], labels: { stable: "2" } };
  w.tf.set("3", status("3", "LOADING"));
  const step = only(d, observe(w));
  assert.equal(step.kind, "abandon");
  assert.match(step.kind === "abandon" ? step.reason : "", /not currently available for inference/);
  const folded = applyOutcome(d, step, { ok: true, reason: "" }, T0).desired;
  assert.equal(folded.inFlight, undefined);
  assert.equal(only(folded, observe(w)).kind, "await-available");
});

test("crash recovery: an in-flight probe is abandoned and re-planned with the journaled deadline", () => {
  const { d, w } = managed(["2", "3"], "2");
  d.verdicts["3"] = { verdict: "candidate", reason: "", at: T0, by: "daemon" };
  d.progress["3"] = { loadStartedAt: T0 - 1000 };
  d.inFlight = {
    id: "j3",
    step: { kind: "await-available", model: "m", version: "3", deadline: 1 },
    startedAt: T0,
  };
  w.tf.set("3", status("3", "LOADING"));
  const step = only(d, observe(w));
  assert.equal(step.kind, "abandon");
  const next = applyOutcome(d, step, { ok: true, reason: "" }, T0).desired;
  assert.deepEqual(only(next, observe(w)), {
    kind: "await-available",
    model: "m",
    version: "3",
    deadline: T0 - 1000 + OPTS.loadTimeoutMs,
  });
});

test("a crash after promote but before verify resumes with verify, even if TF restarted and is loading stable", () => {
  const { d, w } = managed(["2", "3"], "3");
  d.verdicts["3"] = { verdict: "candidate", reason: "", at: T0 - 10 * OPTS.loadTimeoutMs, by: "daemon" };
  d.progress["3"] = {
    loadStartedAt: T0 - 10 * OPTS.loadTimeoutMs,
    gate: { passed: true, reason: "", at: T0 },
  };
  d.verified = { version: "2", at: T0 };
  w.tf.set("3", status("3", "LOADING"));
  assert.equal(only(d, observe(w)).kind, "verify", "stable is never failed for a slow restart");
});

test("execute refuses steps TF Serving would reject (sanity check of the simulated world)", () => {
  const { w } = managed(["2"], "2");
  assert.throws(
    () =>
      execute(w, {
        kind: "promote",
        model: "m",
        config: { specific: ["2", "3"], labels: { stable: "3" } },
        version: "3",
      }),
    /not AVAILABLE/,
  );
});

test("a version TF Serving loaded on its own under latest before adoption landed is a fresh candidate", () => {
  // Adoption pinned specific [1] while TF Serving, still under `latest`, was loading 2 by itself.
  const { d, w } = managed(["1"], "1", ["1", "2"]);
  d.verdicts = {};
  d.verified = { version: "1", at: T0 - 1 };
  w.tf.set("2", status("2", "AVAILABLE"));
  const admitted = only(d, observe(w));
  assert.deepEqual(admitted, { kind: "admit", model: "m", candidate: "2", skipped: [] });
  const candidate = applyOutcome(d, admitted, { ok: true, reason: "" }, T0).desired;
  // TF Serving still holds the old, no longer aspired 2: asking for it now would be parked; wait for its unload.
  for (const state of ["AVAILABLE", "UNLOADING"] as const) {
    w.tf.set("2", status("2", state));
    const held = only(candidate, observe(w));
    assert.equal(held.kind === "wait" && held.reason, "unloading", state);
  }
  w.tf.set("2", status("2", "END"));
  const load = only(candidate, observe(w));
  assert.equal(load.kind, "load");
  w.config = { ...w.config, policy: { kind: "specific", versions: ["1", "2"] } };
  const loaded = applyOutcome(candidate, load, { ok: true, reason: "" }, T0 + 10).desired;
  // Right after the reload GetModelStatus still shows the old END (OK): not a failed load, wait for START.
  const stale = only(loaded, observe(w));
  assert.equal(stale.kind === "wait" && stale.reason, "unloading", "was await-available, which failed it");
  w.tf.set("2", status("2", "START"));
  assert.equal(only(loaded, observe(w)).kind, "await-available");
  // The rest of the rollout is the normal one: gated, promoted, verified.
  w.tf.set("2", status("2", "LOADING"));
  const rest = run(loaded, w);
  assert.deepEqual(kinds(rest.steps), ["await-available", "gate", "promote", "verify"]);
  assert.equal(rest.desired.verdicts["2"]?.verdict, "promoted");
  // The load deadline still bounds a stale END that never turns into a new load.
  w.now = T0 + 10 + OPTS.loadTimeoutMs;
  w.tf.set("2", status("2", "END"));
  w.config = { ...w.config, labels: { stable: "1" } };
  const late = only(loaded, observe(w));
  assert.equal(late.kind, "mark-failed");
});

test("a candidate admitted before a restart and re-checked as pending waits; overdue or gone is incomplete", () => {
  const { d, w } = managed(["1"], "1", ["1", "2"]);
  d.verdicts["2"] = { verdict: "candidate", reason: "newest complete version", at: T0, by: "daemon" };
  w.disk = [...complete("1"), { version: "2", dirName: "2", admission: "pending" }];
  const rechecked = only({ ...d, disk: w.disk }, observe(w));
  assert.equal(rechecked.kind === "wait" && rechecked.reason, "admission-pending");
  w.disk = [...complete("1"), { version: "2", dirName: "2", admission: "overdue" }];
  const overdue = only({ ...d, disk: w.disk }, observe(w));
  assert.equal(overdue.kind === "record-verdict" && overdue.verdict, "incomplete");
  w.disk = complete("1");
  const gone = only({ ...d, disk: w.disk }, observe(w));
  assert.equal(gone.kind === "record-verdict" && gone.verdict, "incomplete");
});

test("a config step whose reload failed after its write is issued again (reload only) until TF Serving gets it", () => {
  const { d, w } = managed(["1", "2"], "2", ["1", "2", "3"]);
  let desired = d;
  const admit = only(desired, observe(w));
  assert.equal(admit.kind, "admit");
  desired = applyOutcome(desired, admit, execute(w, admit), w.now).desired;
  const load = only(desired, observe(w));
  assert.equal(load.kind, "load");
  // The file is written, the reload is not: TF Serving still has the old config.
  w.config.policy = { kind: "specific", versions: ["1", "2", "3"] };
  desired = applyOutcome(
    desired,
    load,
    { ok: false, written: true, reason: "reload failed: INTERNAL" },
    w.now,
  ).desired;
  assert.deepEqual(desired.reloadPending, load);
  const again = plan(desired, observe(w), OPTS);
  assert.deepEqual(again.steps, [load], again.reason);
  assert.match(again.reason, /never got the reload/);
  desired = applyOutcome(desired, load, execute(w, load), w.now).desired;
  assert.equal(desired.reloadPending, undefined);
  assert.equal(only(desired, observe(w)).kind, "await-available");

  // Edited by hand before the retry: the pending reload is dropped, the edit is accepted as intent.
  const edited = applyOutcome(
    desired,
    load,
    { ok: false, written: true, reason: "reload failed" },
    w.now,
  ).desired;
  w.config.labels = { stable: "1" };
  const next = only(edited, observe(w));
  assert.equal(next.kind, "accept-hand-edit");
  assert.equal(applyOutcome(edited, next, { ok: true, reason: "" }, w.now).desired.reloadPending, undefined);
});
