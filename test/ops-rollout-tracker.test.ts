import assert from "node:assert/strict";
import { test } from "node:test";
import type { Step } from "../src/controller/types.js";
import type { StepEvent } from "../src/engine/logger.js";
import type { RolloutEvent } from "../src/ops/events.js";
import { RolloutMetrics } from "../src/ops/metrics.js";
import { checkLabel, gateChecks, RolloutTracker } from "../src/ops/rollout-tracker.js";

const POLICY = (stable: string, ...specific: string[]) => ({ specific, labels: { stable } });

function world(options: { actors?: Record<string, string>; detectedAt?: number } = {}) {
  const metrics = new RolloutMetrics({ defaultMetrics: false });
  const events: RolloutEvent[] = [];
  let now = 1_000_000;
  const lookups: string[] = [];
  const tracker = new RolloutTracker({
    metrics,
    emit: (event) => events.push(event),
    now: () => now,
    intentActor: async (_model, id) => options.actors?.[id],
    detectedAt: async (model, version) => {
      lookups.push(`${model}/${version}`);
      return options.detectedAt;
    },
  });
  const step = async (s: Step, outcome: StepEvent["outcome"] = "ok", reason = "r", details?: object) => {
    await tracker.handle({
      step: s,
      outcome,
      durationMs: 1,
      reason,
      ...(details ? { details } : {}),
    } as StepEvent);
  };
  const sample = async (name: string, labels: string) => {
    const line = (await metrics.expose())
      .split("\n")
      .find((l) => l.startsWith(`tfs_rollout_${name}{${labels}}`));
    return line === undefined ? undefined : Number(line.split(" ").pop());
  };
  return { metrics, events, tracker, step, sample, lookups, advance: (ms: number) => (now += ms) };
}

test("a good candidate: candidate_detected, then promoted once stable is verified, with the detection time", async () => {
  const w = world();
  await w.step({ kind: "admit", model: "m", candidate: "2", skipped: ["1"] }, "ok", "candidate 2");
  w.advance(30_000);
  await w.step({ kind: "load", model: "m", config: POLICY("1", "1", "2"), version: "2" });
  await w.step({ kind: "promote", model: "m", config: POLICY("2", "1", "2"), version: "2", from: "1" });
  assert.deepEqual(
    w.events.map((e) => e.type),
    ["candidate_detected"],
    "promote alone is not yet a promotion: verify says stable resolves to it",
  );
  await w.step({ kind: "verify", model: "m", label: "stable", version: "2" }, "ok", "stable resolves to 2");
  assert.deepEqual(
    w.events.map((e) => [e.type, e.version, e.reason]),
    [
      ["candidate_detected", "2", "candidate 2"],
      ["promoted", "2", "stable resolves to 2"],
    ],
  );
  assert.deepEqual(w.events[0]?.details, { skipped: ["1"] });
  assert.equal(w.events[1]?.details?.previous, "1");
  assert.equal(w.events[1]?.at, new Date(1_030_000).toISOString());
  assert.equal(await w.sample("rollouts_total", 'model="m",outcome="promoted"'), 1);
  assert.equal(await w.sample("rollouts_total", 'model="m",outcome="skipped"'), 1);
  assert.equal(await w.sample("stable_version", 'model="m"'), 2);
  assert.equal(await w.sample("detection_to_promotion_seconds_sum", 'model="m"'), 30);
  assert.deepEqual(w.lookups, [], "the admit was seen: no journal look-up");
});

test("a promotion whose admit this process did not see asks the journal for the detection time", async () => {
  const w = world({ detectedAt: 1_000_000 - 5000 });
  await w.step({ kind: "promote", model: "m", config: POLICY("3", "2", "3"), version: "3", from: "2" });
  await w.step({ kind: "verify", model: "m", label: "stable", version: "3" });
  assert.deepEqual(w.lookups, ["m/3"]);
  assert.equal(await w.sample("detection_to_promotion_seconds_sum", 'model="m"'), 5);
  assert.equal(w.events[0]?.details?.detected_at, new Date(995_000).toISOString());
});

test("a verify after adoption or a hand edit is no promotion; adopt and hand edits set stable_version", async () => {
  const w = world();
  await w.step({ kind: "adopt", model: "m", config: POLICY("4", "4"), from: "latest", reason: "adopted" });
  assert.equal(await w.sample("stable_version", 'model="m"'), 4);
  await w.step({ kind: "verify", model: "m", label: "stable", version: "4" });
  assert.deepEqual(w.events, []);
  assert.equal(await w.sample("rollouts_total", 'model="m",outcome="promoted"'), undefined);
});

test("a broken candidate: gate checks by outcome, gate_failed naming the failed checks, an automatic rollback, rejected", async () => {
  const w = world();
  await w.step({ kind: "admit", model: "m", candidate: "3", skipped: [] });
  const checks = [
    { name: "serving signatures", passed: true, detail: "ok" },
    { name: "signature compatibility with stable 2", passed: true, detail: "same" },
    { name: "golden requests", passed: true, detail: "", skipped: "none configured" },
    { name: "predict serving_default (synthesised) over gRPC", passed: false, detail: "NaN at 0" },
  ];
  await w.step({ kind: "gate", model: "m", version: "3", stable: "2" }, "failed", "predict: NaN at 0", {
    checks,
  });
  await w.step(
    {
      kind: "rollback-config",
      model: "m",
      config: POLICY("2", "1", "2"),
      removed: ["3"],
      reason: "3: gate failed",
    },
    "ok",
    "written",
  );
  await w.step({
    kind: "record-verdict",
    model: "m",
    version: "3",
    verdict: "rejected",
    reason: "gate failed",
  });
  assert.deepEqual(
    w.events.map((e) => [e.type, e.version]),
    [
      ["candidate_detected", "3"],
      ["gate_failed", "3"],
      ["rolled_back", "3"],
    ],
  );
  assert.deepEqual(w.events[1]?.details, {
    failed_checks: [{ name: "predict serving_default (synthesised) over gRPC", detail: "NaN at 0" }],
  });
  assert.deepEqual(w.events[2]?.details, { kind: "automatic", stable: "2" });
  assert.equal(w.events[2]?.reason, "3: gate failed");
  assert.equal(await w.sample("gate_checks_total", 'model="m",check="serving signatures",outcome="pass"'), 1);
  assert.equal(
    await w.sample(
      "gate_checks_total",
      'model="m",check="signature compatibility with stable",outcome="pass"',
    ),
    1,
  );
  assert.equal(await w.sample("gate_checks_total", 'model="m",check="golden requests",outcome="skip"'), 1);
  assert.equal(
    await w.sample(
      "gate_checks_total",
      'model="m",check="predict serving_default (synthesised) over gRPC",outcome="fail"',
    ),
    1,
  );
  assert.equal(await w.sample("rollbacks_total", 'model="m",kind="automatic"'), 1);
  assert.equal(await w.sample("rollouts_total", 'model="m",outcome="rejected"'), 1);
});

test("an operator rollback (intent by cli:<user>) is manual; one by auto-rollback is automatic", async () => {
  for (const [actor, kind] of [
    ["cli:alice", "manual"],
    ["auto-rollback", "automatic"],
  ] as const) {
    const w = world({ actors: { i1: actor } });
    const start: Step = {
      kind: "start-rollback",
      model: "m",
      intentId: "i1",
      target: "1",
      reject: ["2"],
      action: "rename",
    };
    await w.step(start);
    await w.step({ kind: "promote", model: "m", config: POLICY("1", "1", "2"), version: "1", from: "2" });
    await w.step({ kind: "verify", model: "m", label: "stable", version: "1" }, "ok", "stable resolves to 1");
    // The rest of the rollback: taking 2 out is part of it, not another rollback or a rejected rollout.
    await w.step({
      kind: "rollback-config",
      model: "m",
      config: POLICY("1", "1"),
      removed: ["2"],
      reason: "x",
    });
    await w.step({
      kind: "record-verdict",
      model: "m",
      version: "2",
      verdict: "rejected",
      reason: "operator",
    });
    await w.step({
      kind: "finish-intent",
      model: "m",
      intentId: "i1",
      outcome: "done",
      reason: "rolled back",
    });
    assert.deepEqual(
      w.events.map((e) => [e.type, e.version, e.details]),
      [["rolled_back", "2", { kind, by: actor, stable: "1", rolled_back: ["2"] }]],
      actor,
    );
    assert.equal(await w.sample("rollbacks_total", `model="m",kind="${kind}"`), 1);
    assert.equal(await w.sample("rollouts_total", 'model="m",outcome="rolled_back"'), 1);
    assert.equal(await w.sample("rollouts_total", 'model="m",outcome="rejected"'), undefined);
    assert.equal(await w.sample("rollouts_total", 'model="m",outcome="promoted"'), undefined);
    assert.equal(await w.sample("stable_version", 'model="m"'), 1);
  }
});

test("the actor a start-rollback step carries wins over the intent look-up", async () => {
  const w = world({ actors: { i9: "cli:someone-else" } });
  const start = {
    kind: "start-rollback",
    model: "m",
    intentId: "i9",
    target: "1",
    reject: ["2"],
    action: "rename",
    by: "auto-rollback",
  };
  await w.step(start as Step);
  await w.step({ kind: "promote", model: "m", config: POLICY("1", "1", "2"), version: "1", from: "2" });
  await w.step({ kind: "verify", model: "m", label: "stable", version: "1" });
  assert.equal(w.events[0]?.details?.kind, "automatic");
  assert.equal(w.events[0]?.details?.by, "auto-rollback");
});

test("a refused rollback emits nothing; one whose target already was stable is reported when it finishes", async () => {
  const w = world({ actors: { a: "cli:bob", b: "cli:bob" } });
  await w.step({
    kind: "start-rollback",
    model: "m",
    intentId: "a",
    target: "1",
    reject: ["2"],
    action: "rename",
  });
  await w.step({ kind: "finish-intent", model: "m", intentId: "a", outcome: "refused", reason: "1 is gone" });
  assert.equal(w.events.length, 0);
  await w.step({
    kind: "start-rollback",
    model: "m",
    intentId: "b",
    target: "1",
    reject: ["2"],
    action: "rename",
  });
  await w.step({ kind: "finish-intent", model: "m", intentId: "b", outcome: "done", reason: "done" });
  assert.deepEqual(
    w.events.map((e) => [e.type, e.details?.kind]),
    [["rolled_back", "manual"]],
  );
});

test("stuck past a deadline: a load that never became AVAILABLE, and a copy that never completed", async () => {
  const w = world();
  await w.step(
    { kind: "await-available", model: "m", version: "5", deadline: 1 },
    "failed",
    "not AVAILABLE by the load deadline (last seen: LOADING)",
  );
  await w.step(
    { kind: "await-available", model: "m", version: "6", deadline: 1 },
    "failed",
    "load failed (END, 3)",
  );
  await w.step({
    kind: "mark-failed",
    model: "m",
    version: "7",
    reason: "not AVAILABLE within 600 s (state LOADING)",
  });
  await w.step({
    kind: "record-verdict",
    model: "m",
    version: "8",
    verdict: "incomplete",
    reason: "never completed before the admission deadline",
  });
  await w.step({
    kind: "record-verdict",
    model: "m",
    version: "9",
    verdict: "incomplete",
    reason: "directory is pending",
  });
  assert.deepEqual(
    w.events.map((e) => [e.type, e.version, e.details?.deadline]),
    [
      ["stuck_past_deadline", "5", "load_deadline"],
      ["stuck_past_deadline", "7", "load_deadline"],
      ["stuck_past_deadline", "8", "incomplete_deadline"],
    ],
  );
  assert.equal(
    await w.sample("rollouts_total", 'model="m",outcome="rejected"'),
    2,
    "both incomplete versions",
  );
});

test("approval_waiting: from a request-approval step or approvalWaiting(), once per version", async () => {
  const w = world();
  const request = {
    kind: "request-approval",
    model: "m",
    version: "4",
    deadline: 2_000_000,
    reason: "needs approval",
  };
  await w.step(request as unknown as Step);
  await w.step(request as unknown as Step);
  w.tracker.approvalWaiting("m", "4", "again");
  w.tracker.approvalWaiting("m", "5", "another version", { window: "weekdays" });
  assert.deepEqual(
    w.events.map((e) => [e.type, e.version, e.reason, e.details]),
    [
      ["approval_waiting", "4", "needs approval", { deadline: new Date(2_000_000).toISOString() }],
      ["approval_waiting", "5", "another version", { window: "weekdays" }],
    ],
  );
});

test("interrupted steps and failed bookkeeping count nothing; a failing look-up is reported, later events still flow", async () => {
  const errors: unknown[] = [];
  const metrics = new RolloutMetrics({ defaultMetrics: false });
  const events: RolloutEvent[] = [];
  const tracker = new RolloutTracker({
    metrics,
    emit: (event) => events.push(event),
    intentActor: () => Promise.reject(new Error("state unreadable")),
    detectedAt: async () => undefined,
    onError: (error) => errors.push(error),
  });
  const ev = (step: Step, outcome: StepEvent["outcome"] = "ok") =>
    tracker.handle({ step, outcome, durationMs: 1, reason: "r" });
  await ev({ kind: "gate", model: "m", version: "2" }, "interrupted");
  await ev({
    kind: "start-rollback",
    model: "m",
    intentId: "x",
    target: "1",
    reject: ["2"],
    action: "rename",
  });
  await ev({ kind: "admit", model: "m", candidate: "3", skipped: [] });
  assert.equal(errors.length, 1);
  assert.deepEqual(
    events.map((e) => e.type),
    ["candidate_detected"],
  );
  assert.doesNotMatch(await metrics.expose(), /gate_checks_total\{/);
});

test("check labels drop version numbers so the label set stays bounded", () => {
  assert.equal(checkLabel("signature compatibility with stable 17"), "signature compatibility with stable");
  assert.equal(checkLabel("golden request known-cat-2x"), "golden request known-cat-2x");
  assert.deepEqual(gateChecks(undefined), []);
  assert.deepEqual(gateChecks({ checks: [{ name: "a", passed: true }, { passed: false }, "junk"] }), [
    { label: "a", outcome: "pass" },
  ]);
});
