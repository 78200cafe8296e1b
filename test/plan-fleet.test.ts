import assert from "node:assert/strict";
import { test } from "node:test";
import { applyOutcome } from "../src/controller/outcome.js";
import { plan } from "../src/controller/plan.js";
import { decideByPolicy, fleetStable, replicaReady } from "../src/controller/plan-fleet.js";
import type {
  DesiredState,
  DiskVersion,
  FleetPolicy,
  FleetRolloutView,
  FleetView,
  PlanOptions,
  PlanResult,
  Step,
  Version,
} from "../src/controller/types.js";
import { quarantineName } from "../src/controller/versions.js";
import {
  complete,
  execute,
  managed,
  observe,
  OPTS,
  settle,
  T0,
  type World,
} from "./helpers/controller-world.js";

// A pure fleet: the records etcd would hold, and replicas that each plan → execute → fold against their own
// simulated TF Serving (controller-world.ts) and one shared model store.

interface Replica {
  id: string;
  d: DesiredState;
  w: World;
  alive: boolean;
}

interface Fleet {
  rollouts: FleetRolloutView[];
  ready: Map<string, boolean>;
  slots: { replica: string; version: Version }[];
  coordinator: string;
  maxLoading: number;
  policy: FleetPolicy;
  reachable: boolean;
  disk: DiskVersion[];
  replicas: Replica[];
  /** Every applied step: replica, kind, version. */
  log: { replica: string; kind: string; version?: string; phase?: string }[];
  /** Most replicas with a version listed but not yet AVAILABLE or gated, at any one time. */
  peakLoading: number;
}

function fleetOf(
  ids: string[],
  options: { stable?: string; disk?: string[]; policy?: FleetPolicy } = {},
): Fleet {
  const stable = options.stable ?? "1";
  const disk = complete(...(options.disk ?? [stable]));
  const replicas = ids.map((id) => {
    const { d, w } = managed(
      [stable],
      stable,
      disk.map((v) => v.version),
    );
    return { id, d, w, alive: true };
  });
  return {
    rollouts: [],
    ready: new Map(ids.map((id) => [id, true])),
    slots: [],
    coordinator: ids[0] as string,
    maxLoading: 1,
    policy: options.policy ?? { kind: "all" },
    reachable: true,
    disk,
    replicas,
    log: [],
    peakLoading: 0,
  };
}

function view(f: Fleet, id: string): FleetView {
  return {
    reachable: f.reachable,
    ...(f.reachable ? {} : { reason: "etcd: connection refused" }),
    replica: id,
    coordinator: f.coordinator === id,
    coordinatorId: f.coordinator,
    members: f.replicas
      .filter((r) => r.alive)
      .map((r) => ({ replica: r.id, ready: f.ready.get(r.id) === true })),
    rollouts: structuredClone(f.rollouts),
    slots: f.slots.map((s) => ({ ...s })),
    maxLoading: f.maxLoading,
    policy: f.policy,
  };
}

const replica = (f: Fleet, id: string): Replica => f.replicas.find((r) => r.id === id) as Replica;

function planFor(f: Fleet, id: string, options: PlanOptions = OPTS): PlanResult {
  const r = replica(f, id);
  r.w.disk = f.disk;
  return plan({ ...r.d, disk: f.disk, fleet: view(f, id) }, observe(r.w), options);
}

function applyFleetStep(f: Fleet, id: string, step: Step, now: number): boolean {
  const rollout = (v: Version) => f.rollouts.find((r) => r.version === v);
  switch (step.kind) {
    case "fleet-open":
      if (f.rollouts.some((r) => r.decision === undefined) || rollout(step.version)) return false;
      f.rollouts.push({ version: step.version, openedAt: now, reports: {} });
      return true;
    case "fleet-acquire-slot": {
      const mine = f.slots.find((s) => s.replica === id);
      if (mine) mine.version = step.version;
      else if (f.slots.length >= step.max) return false;
      else f.slots.push({ replica: id, version: step.version });
      return true;
    }
    case "fleet-release-slot":
      f.slots = f.slots.filter((s) => s.replica !== id);
      return true;
    case "fleet-report": {
      const r = rollout(step.version);
      if (r) r.reports[id] = { phase: step.phase, reason: step.reason, at: now };
      return true;
    }
    case "fleet-decide": {
      const r = rollout(step.version);
      if (!r || r.decision) return false;
      r.decision = { verdict: step.verdict, reason: step.reason, at: now, by: id, override: false };
      return true;
    }
    case "fleet-mark-removed": {
      const r = rollout(step.version);
      if (!r || r.removed) return false;
      r.removed = step.as;
      return true;
    }
    default:
      return false;
  }
}

/** One step of one replica; returns the plan result (its step applied unless it is a wait). */
function stepOnce(f: Fleet, id: string, options: PlanOptions = OPTS): PlanResult {
  const r = replica(f, id);
  const result = planFor(f, id, options);
  const step = result.steps[0];
  if (step === undefined || step.kind === "wait") return result;
  if (step.kind === "await-available") settle(r.w);
  const outcome = step.kind.startsWith("fleet-")
    ? { ok: applyFleetStep(f, id, step, r.w.now), reason: "fleet" }
    : execute(r.w, step);
  r.d = applyOutcome({ ...r.d, disk: f.disk }, step, outcome, r.w.now).desired;
  f.disk = r.w.disk;
  r.w.now += 1000;
  f.log.push({
    replica: id,
    kind: step.kind,
    ...("version" in step ? { version: step.version } : {}),
    ...(step.kind === "fleet-report" ? { phase: step.phase } : {}),
  });
  const loading = f.replicas.filter((x) => {
    const listed = x.w.config.policy.kind === "specific" ? x.w.config.policy.versions : [];
    return listed.some((v) => x.w.tf.get(v)?.state === "LOADING");
  });
  f.peakLoading = Math.max(f.peakLoading, loading.length);
  return result;
}

/** Round robin over the live replicas until none has anything to do (or `max` rounds). */
function settleFleet(f: Fleet, max = 60, options: PlanOptions = OPTS): void {
  for (let round = 0; round < max; round++) {
    let moved = false;
    for (const r of f.replicas.filter((x) => x.alive)) {
      const result = stepOnce(f, r.id, options);
      const step = result.steps[0];
      if (step !== undefined && step.kind !== "wait") moved = true;
      f.ready.set(r.id, replicaReady(f, r.w.config.labels.stable));
    }
    if (!moved) return;
  }
  throw new Error(`fleet did not settle: ${f.log.map((l) => `${l.replica}:${l.kind}`).join(" ")}`);
}

const kindsOf = (f: Fleet, id: string) => f.log.filter((l) => l.replica === id).map((l) => l.kind);
const nextKind = (result: PlanResult) => result.steps[0]?.kind;
const waitReason = (result: PlanResult) => {
  const step = result.steps[0];
  return step?.kind === "wait" ? step.reason : undefined;
};

/** A fleet where `3` was just put on the shared store. */
function withNewVersion(ids = ["a", "b", "c"], policy?: FleetPolicy): Fleet {
  return fleetOf(ids, { stable: "1", disk: ["1", "3"], ...(policy ? { policy } : {}) });
}

/** An undecided rollout of `version` that a, b and c all passed. */
const passedEverywhere = (version: Version): FleetRolloutView => ({
  version,
  openedAt: T0,
  reports: Object.fromEntries(
    ["a", "b", "c"].map((r) => [r, { phase: "passed" as const, reason: "", at: T0 }]),
  ),
});

// ------------------------------------------------------------------------------------------------------------

test("only the coordinator opens a rollout; the others admit nothing by themselves", () => {
  const f = withNewVersion();
  assert.equal(nextKind(planFor(f, "b")), undefined, planFor(f, "b").reason);
  const open = planFor(f, "a").steps[0];
  assert.deepEqual(open, {
    kind: "fleet-open",
    model: "m",
    version: "3",
    reason: "newest complete version above 1",
  });
});

test("the coordinator waits while a newer version is still being copied, and never reopens a judged one", () => {
  const f = withNewVersion();
  f.disk = [...f.disk, { version: "4", dirName: "4", admission: "pending" }];
  assert.equal(waitReason(planFor(f, "a")), "admission-pending");
  f.disk = f.disk.filter((v) => v.version !== "4");
  f.rollouts.push({
    version: "3",
    openedAt: T0,
    reports: {},
    decision: { verdict: "reject", reason: "x", at: T0, by: "a", override: false },
    removed: ".rejected-3",
  });
  f.disk = [...f.disk, ...complete("2")];
  assert.equal(nextKind(planFor(f, "a")), undefined, "2 is below the rejected 3: never opened");
});

test("the candidate comes only from the fleet: its rollout is admitted, a local candidate it does not know is skipped", () => {
  const f = withNewVersion();
  f.rollouts.push({ version: "3", openedAt: T0, reports: {} });
  assert.deepEqual(planFor(f, "b").steps[0], { kind: "admit", model: "m", candidate: "3", skipped: [] });
  const b = replica(f, "b");
  b.d.verdicts["5"] = { verdict: "candidate", reason: "local", at: T0, by: "daemon" };
  const step = planFor(f, "b").steps[0];
  assert.equal(step?.kind, "record-verdict");
  assert.equal(step?.kind === "record-verdict" && step.verdict, "skipped");
});

test("a slot before the load: taken when fewer than max_loading are held, else wait fleet-slot", () => {
  const f = withNewVersion();
  f.rollouts.push({ version: "3", openedAt: T0, reports: {} });
  stepOnce(f, "b"); // admit
  assert.deepEqual(planFor(f, "b").steps[0], {
    kind: "fleet-acquire-slot",
    model: "m",
    version: "3",
    max: 1,
  });
  f.slots.push({ replica: "c", version: "3" });
  const waiting = planFor(f, "b");
  assert.equal(waitReason(waiting), "fleet-slot");
  assert.match(waiting.reason, /c loads 3/);
  f.slots = [{ replica: "b", version: "3" }];
  assert.equal(nextKind(planFor(f, "b")), "fleet-report", "loading is reported before the load");
  f.rollouts[0]!.reports.b = { phase: "loading", reason: "", at: T0 };
  assert.equal(nextKind(planFor(f, "b")), "load");
  f.maxLoading = 2;
  f.slots = [{ replica: "c", version: "3" }];
  assert.equal(nextKind(planFor(f, "b")), "fleet-acquire-slot");
});

test("slot → report loading → load → await → gate → report passed → slot back → wait for the verdict (no promote)", () => {
  const f = withNewVersion();
  f.rollouts.push({ version: "3", openedAt: T0, reports: {} });
  for (let i = 0; i < 8; i++) stepOnce(f, "b");
  assert.deepEqual(kindsOf(f, "b"), [
    "admit",
    "fleet-acquire-slot",
    "fleet-report",
    "load",
    "await-available",
    "gate",
    "fleet-report",
    "fleet-release-slot",
  ]);
  assert.equal(f.rollouts[0]?.reports.b?.phase, "passed");
  assert.deepEqual(f.slots, []);
  const result = planFor(f, "b");
  assert.equal(waitReason(result), "fleet-verdict", result.reason);
  assert.equal(replica(f, "b").w.config.labels.stable, "1");
});

test("a failure here is reported, not rolled back: gate failed, END, AVAILABLE deadline", () => {
  for (const behaviour of ["gate-fail", "end", "stuck"] as const) {
    const f = withNewVersion();
    f.rollouts.push({ version: "3", openedAt: T0, reports: {} });
    replica(f, "b").w.behaviour["3"] = behaviour;
    for (let i = 0; i < 12 && waitReason(planFor(f, "b")) !== "fleet-verdict"; i++) stepOnce(f, "b");
    assert.equal(waitReason(planFor(f, "b")), "fleet-verdict", behaviour);
    assert.equal(f.rollouts[0]?.reports.b?.phase, "failed", behaviour);
    const kinds = kindsOf(f, "b");
    assert.ok(!kinds.includes("rollback-config") && !kinds.includes("mark-failed"), kinds.join(" "));
    assert.equal(replica(f, "b").d.progress["3"]?.failure, undefined, "no local failure before the verdict");
    assert.deepEqual(f.slots, [], `${behaviour}: the slot went back`);
  }
});

test("decide, policy all: every ready member passed → promote; any failed → reject; non-ready members do not vote", () => {
  const f = withNewVersion();
  const rollout: FleetRolloutView = {
    version: "3",
    openedAt: T0,
    reports: { a: { phase: "passed", reason: "", at: T0 }, b: { phase: "passed", reason: "", at: T0 } },
  };
  const v = (ready: Record<string, boolean>) => ({
    ...view(f, "a"),
    members: Object.entries(ready).map(([replica, r]) => ({ replica, ready: r })),
  });
  assert.equal(decideByPolicy(v({ a: true, b: true, c: true }), rollout), undefined, "c has not reported");
  assert.equal(decideByPolicy(v({ a: true, b: true, c: false }), rollout)?.verdict, "promote");
  assert.equal(decideByPolicy(v({ a: false, b: false }), rollout), undefined, "nobody votes");
  rollout.reports.c = { phase: "failed", reason: "gate failed: NaN", at: T0 };
  const reject = decideByPolicy(v({ a: true, b: true, c: true }), rollout);
  assert.equal(reject?.verdict, "reject");
  assert.match(reject?.reason ?? "", /c: gate failed: NaN/);
  assert.equal(decideByPolicy(v({ a: true, b: true, c: false }), rollout)?.verdict, "promote");
});

test("decide, policy quorum: N passed → promote; more than live − N failed → reject; never reject on silence", () => {
  const f = withNewVersion(["a", "b", "c"], { kind: "quorum", quorum: 2 });
  const members = ["a", "b", "c"].map((replica) => ({ replica, ready: true }));
  const v = { ...view(f, "a"), members };
  const rollout = (phases: Record<string, "passed" | "failed">): FleetRolloutView => ({
    version: "3",
    openedAt: T0,
    reports: Object.fromEntries(
      Object.entries(phases).map(([r, phase]) => [r, { phase, reason: phase, at: T0 }]),
    ),
  });
  assert.equal(decideByPolicy(v, rollout({ a: "passed", c: "failed" })), undefined);
  assert.equal(decideByPolicy(v, rollout({ a: "passed", b: "passed", c: "failed" }))?.verdict, "promote");
  assert.equal(decideByPolicy(v, rollout({ a: "failed", b: "failed" }))?.verdict, "reject");
  const few = { ...v, members: [{ replica: "a", ready: true }] };
  assert.equal(decideByPolicy(few, rollout({})), undefined, "quorum out of reach but nobody failed: wait");
  assert.equal(decideByPolicy(few, rollout({ a: "failed" }))?.verdict, "reject");
});

test("only the coordinator decides, with a fleet-decide step", () => {
  const f = withNewVersion();
  f.rollouts.push(passedEverywhere("3"));
  for (const id of ["b", "c"]) assert.notEqual(nextKind(planFor(f, id)), "fleet-decide");
  const step = planFor(f, "a").steps[0];
  assert.equal(step?.kind, "fleet-decide");
  assert.equal(step?.kind === "fleet-decide" && step.verdict, "promote");
});

test("a good version: promoted on all three, at most one loading at once, one decision, every report promoted", () => {
  const f = withNewVersion();
  settleFleet(f);
  for (const r of f.replicas) {
    assert.equal(r.w.config.labels.stable, "3", r.id);
    assert.equal(r.d.verdicts["3"]?.verdict, "promoted", r.id);
    assert.equal(f.rollouts[0]?.reports[r.id]?.phase, "promoted", r.id);
  }
  assert.equal(f.peakLoading, 1);
  assert.equal(f.log.filter((l) => l.kind === "fleet-decide").length, 1);
  assert.equal(f.log.filter((l) => l.kind === "fleet-open").length, 1);
  assert.equal(f.rollouts[0]?.decision?.verdict, "promote");
  assert.deepEqual(f.slots, []);
  assert.equal(fleetStable(f), "3");
  assert.ok(f.replicas.every((r) => f.ready.get(r.id)));
});

test("max_loading 2 lets two replicas load at once", () => {
  const f = withNewVersion();
  f.maxLoading = 2;
  settleFleet(f);
  assert.equal(f.peakLoading, 2);
  assert.ok(f.replicas.every((r) => r.w.config.labels.stable === "3"));
});

test("fails on one replica only → rejected fleet-wide: mark-failed → rollback-config → report unloaded → rejected; renamed once by the coordinator", () => {
  const f = withNewVersion();
  replica(f, "c").w.behaviour["3"] = "gate-fail";
  settleFleet(f);
  const decision = f.rollouts[0]?.decision;
  assert.equal(decision?.verdict, "reject");
  for (const r of f.replicas) {
    assert.equal(r.w.config.labels.stable, "1", r.id);
    assert.deepEqual(r.w.config.policy, { kind: "specific", versions: ["1"] }, r.id);
    assert.equal(r.d.verdicts["3"]?.verdict, "rejected", r.id);
  }
  for (const id of ["b", "c"]) {
    const kinds = kindsOf(f, id);
    assert.ok(!kinds.includes("quarantine"), `${id} never renames: ${kinds.join(" ")}`);
    const tail = kinds.slice(kinds.indexOf("mark-failed")).filter((k) => k !== "fleet-release-slot");
    assert.deepEqual(
      tail.slice(0, 4),
      ["mark-failed", "rollback-config", "fleet-report", "record-verdict"],
      id,
    );
  }
  const quarantines = f.log.filter((l) => l.kind === "quarantine");
  assert.deepEqual(quarantines, [{ replica: "a", kind: "quarantine", version: "3" }]);
  assert.equal(f.log.filter((l) => l.kind === "fleet-mark-removed").length, 1);
  const name = quarantineName("3", decision?.at ?? 0);
  assert.equal(replica(f, "a").w.quarantined["3"], name, "the name comes from the decision time");
  assert.equal(f.rollouts[0]?.removed, name);
  assert.equal(replica(f, "a").d.verdicts["3"]?.quarantinedAs, name);
  // The quarantine came after every replica that had loaded 3 reported unloaded; a (the coordinator) never loaded it.
  const at = f.log.findIndex((l) => l.kind === "quarantine");
  const unloaded = f.log.slice(0, at).filter((l) => l.phase === "unloaded");
  assert.deepEqual(unloaded.map((l) => l.replica).sort(), ["b", "c"]);
  assert.equal(f.rollouts[0]?.reports.a, undefined);
});

test("removal waits for every live member to unload; a dead member does not block it", () => {
  const f = withNewVersion();
  f.rollouts.push({
    version: "3",
    openedAt: T0,
    decision: { verdict: "reject", reason: "failed on c", at: T0 + 5000, by: "a", override: false },
    reports: {
      a: { phase: "unloaded", reason: "", at: T0 },
      b: { phase: "passed", reason: "", at: T0 },
    },
  });
  replica(f, "a").d.verdicts["3"] = { verdict: "rejected", reason: "fleet", at: T0, by: "daemon" };
  const a = planFor(f, "a");
  assert.notEqual(nextKind(a), "quarantine", a.reason);
  replica(f, "b").alive = false;
  const step = planFor(f, "a").steps[0];
  assert.equal(step?.kind, "quarantine");
  assert.equal(step?.kind === "quarantine" && step.newName, quarantineName("3", T0 + 5000));
  f.coordinator = "c";
  assert.equal(nextKind(planFor(f, "a")), undefined, "no longer the coordinator: a never renames");
  assert.equal(nextKind(planFor(f, "c")), "quarantine", "the new coordinator takes over with the same name");
});

test("a replica that never loaded the rejected version records nothing to unload and never renames", () => {
  const f = withNewVersion();
  f.rollouts.push({
    version: "3",
    openedAt: T0,
    decision: { verdict: "reject", reason: "failed on c", at: T0, by: "a", override: false },
    reports: {},
  });
  assert.equal(nextKind(planFor(f, "b")), undefined, planFor(f, "b").reason);
});

test("a returning replica moves to the fleet's stable without a gate and never loads a rejected version", () => {
  const f = fleetOf(["a", "b"], { stable: "1", disk: ["1", "3", "4"] });
  f.rollouts.push(
    {
      version: "3",
      openedAt: T0,
      reports: {},
      decision: { verdict: "promote", reason: "ok", at: T0, by: "a", override: false },
    },
    {
      version: "4",
      openedAt: T0,
      reports: {},
      decision: { verdict: "reject", reason: "bad", at: T0, by: "a", override: false },
    },
  );
  f.ready.set("b", false);
  f.replicas = f.replicas.filter((r) => r.id === "b");
  settleFleet(f);
  assert.deepEqual(kindsOf(f, "b"), [
    "fleet-acquire-slot",
    "load",
    "await-available",
    "promote",
    "verify",
    "fleet-report",
    "fleet-release-slot",
  ]);
  const b = replica(f, "b");
  assert.equal(b.w.config.labels.stable, "3");
  assert.equal(b.w.tf.get("4"), undefined, "4 was never loaded");
  assert.equal(b.d.verdicts["3"]?.verdict, "promoted");
  assert.equal(f.rollouts[0]?.reports.b?.phase, "promoted");
  assert.equal(replicaReady(f, "3"), true);
  assert.equal(replicaReady(f, "1"), false);
});

test("etcd unreachable: every replica waits, the coordinator neither decides nor removes nor opens", () => {
  const f = withNewVersion();
  f.rollouts.push(passedEverywhere("3"));
  f.reachable = false;
  for (const id of ["a", "b", "c"]) {
    const result = planFor(f, id);
    assert.equal(waitReason(result), "fleet-unreachable", id);
    assert.match(result.reason, /stable stays on 1, nothing is promoted, unloaded or removed/);
  }
  f.reachable = true;
  assert.equal(nextKind(planFor(f, "a")), "fleet-decide");
});

test("etcd unreachable: a config step whose write landed is finished, one not yet written is not", () => {
  const f = withNewVersion();
  f.reachable = false;
  const b = replica(f, "b");
  const config = { specific: ["1", "3"], labels: { stable: "1" } };
  b.d.inFlight = { id: "j1", step: { kind: "load", model: "m", config, version: "3" }, startedAt: T0 };
  assert.equal(waitReason(planFor(f, "b")), "fleet-unreachable", "not written yet: wait");
  b.w.config = { ...b.w.config, policy: { kind: "specific", versions: ["1", "3"] } };
  const resumed = planFor(f, "b");
  assert.equal(resumed.resumes, "j1");
  assert.equal(nextKind(resumed), "load");
});

test("a fleet step in flight after a restart is abandoned and planned again from the fleet's records", () => {
  const f = withNewVersion();
  f.rollouts.push(passedEverywhere("3"));
  const a = replica(f, "a");
  const stale = { kind: "fleet-decide", model: "m", version: "3", verdict: "reject", reason: "old" } as const;
  a.d.inFlight = { id: "j9", step: stale, startedAt: T0 };
  const first = planFor(f, "a").steps[0];
  assert.equal(first?.kind, "abandon");
  stepOnce(f, "a");
  const again = planFor(f, "a").steps[0];
  assert.equal(again?.kind === "fleet-decide" && again.verdict, "promote");
});

test("retention runs on the coordinator only", () => {
  const f = withNewVersion();
  const options = { ...OPTS, retention: { keepPromoted: 1, keepRejectedForMs: 0, dueAt: T0 } };
  f.disk = complete("0", "1");
  for (const r of f.replicas)
    r.d.verdicts["0"] = { verdict: "promoted", reason: "old", at: T0 - 5, by: "daemon" };
  const kind = (id: string) =>
    plan({ ...replica(f, id).d, disk: f.disk, fleet: view(f, id) }, observe(replica(f, id).w), options)
      .steps[0]?.kind;
  assert.equal(kind("a"), "reclaim");
  assert.equal(kind("b"), undefined);
});

test("an operator rollback's override decision: the replicas unload, the coordinator may take a served version off", () => {
  const f = fleetOf(["a", "b"], { stable: "3", disk: ["2", "3"] });
  for (const r of f.replicas) {
    r.w.config = {
      ...r.w.config,
      policy: { kind: "specific", versions: ["2", "3"] },
      labels: { stable: "2" },
    };
    r.w.tf.set("2", { version: "2", state: "AVAILABLE", error_code: "OK", error_message: "" });
    r.d.lastWritten = { specific: ["2", "3"], labels: { stable: "2" } };
    r.d.verified = { version: "2", at: T0 };
  }
  f.rollouts.push({
    version: "3",
    openedAt: T0,
    reports: { a: { phase: "promoted", reason: "", at: T0 }, b: { phase: "promoted", reason: "", at: T0 } },
    decision: {
      verdict: "reject",
      reason: "operator rollback",
      at: T0 + 7000,
      by: "cli:alice",
      override: true,
    },
  });
  const mark = planFor(f, "b").steps[0];
  assert.equal(mark?.kind, "mark-failed");
  assert.equal(mark?.kind === "mark-failed" && mark.allowServing, true);
  settleFleet(f);
  for (const r of f.replicas)
    assert.deepEqual(r.w.config.policy, { kind: "specific", versions: ["2"] }, r.id);
  assert.equal(replica(f, "a").w.quarantined["3"], quarantineName("3", T0 + 7000));
  assert.equal(f.log.filter((l) => l.kind === "quarantine").length, 1);
});

test("a replica that was down during a fleet-wide rollback comes back on the rejected stable and moves back", () => {
  const f = fleetOf(["a", "b"], { stable: "3", disk: ["2", "3"] });
  const b = replica(f, "b");
  f.replicas = [b];
  b.w.config = { ...b.w.config, policy: { kind: "specific", versions: ["3"] }, labels: { stable: "3" } };
  f.rollouts.push(
    {
      version: "2",
      openedAt: T0,
      reports: {},
      decision: { verdict: "promote", reason: "ok", at: T0, by: "a", override: false },
    },
    {
      version: "3",
      openedAt: T0,
      reports: { b: { phase: "promoted", reason: "", at: T0 } },
      decision: {
        verdict: "reject",
        reason: "operator rollback to 2",
        at: T0 + 9000,
        by: "cli:alice",
        override: true,
      },
    },
  );
  settleFleet(f);
  assert.equal(b.w.config.labels.stable, "2");
  assert.deepEqual(b.w.config.policy, { kind: "specific", versions: ["2"] });
  assert.equal(b.d.verdicts["3"]?.verdict, "rejected");
  assert.equal(f.rollouts[1]?.reports.b?.phase, "unloaded");
  assert.ok(!kindsOf(f, "b").includes("gate"));
});

test("local mode is untouched: without a FleetView no fleet step is ever planned", () => {
  const { d, w } = managed(["1"], "1", ["1", "3"]);
  const kinds: string[] = [];
  let desired = d;
  for (let i = 0; i < 12; i++) {
    const result = plan({ ...desired, disk: w.disk }, observe(w), OPTS);
    const step = result.steps[0];
    if (step === undefined || step.kind === "wait") break;
    kinds.push(step.kind);
    if (step.kind === "await-available") settle(w);
    desired = applyOutcome(desired, step, execute(w, step), w.now).desired;
    w.now += 1000;
  }
  assert.deepEqual(kinds, ["admit", "load", "await-available", "gate", "promote", "verify"]);
});

// ------------------------------------------------------------------------------------------------------------
// Promotion windows, freezes and manual approval hold the coordinator's promote decision (fleetHold).

/** The first rollout's verdict (a call: assert.equal(…, undefined) before does not narrow it). */
const verdictOf = (f: Fleet) => f.rollouts[0]?.decision?.verdict;
const allOn = (f: Fleet, version: string) => f.replicas.every((r) => r.w.config.labels.stable === version);

/** A fleet with the rollout of 3 just opened. */
function withOpenRollout(): Fleet {
  const f = withNewVersion();
  f.rollouts.push({ version: "3", openedAt: T0, reports: {} });
  return f;
}

const approvalOpts = (onTimeout: "reject" | "promote"): PlanOptions => ({
  ...OPTS,
  approval: { required: true, timeoutMs: 60_000, onTimeout },
});

test("a closed promotion window holds the fleet's promote decision; the whole fleet moves once it opens", () => {
  const f = withOpenRollout();
  const opensAt = T0 + 3_600_000;
  const closed: PlanOptions = {
    ...OPTS,
    window: { open: false, detail: "outside every promotion window; opens later", opensAt },
  };
  settleFleet(f, 60, closed);
  assert.equal(f.rollouts[0]?.decision, undefined, "not decided outside the window");
  assert.ok(allOn(f, "1"));
  assert.ok(!f.log.some((l) => l.kind === "canary"), "no canary label: labels stay the same everywhere");
  const held = planFor(f, "a", closed).steps[0];
  assert.equal(held?.kind === "wait" && held.reason, "window");
  assert.equal(held?.kind === "wait" && held.until, opensAt);
  assert.match(
    planFor(f, "a", closed).reason,
    /fleet candidate 3 passed on the fleet and waits for a promotion window/,
  );
  assert.equal(waitReason(planFor(f, "b", closed)), "fleet-verdict");
  settleFleet(f, 60, { ...OPTS, window: { open: true, detail: "inside window" } });
  assert.equal(verdictOf(f), "promote");
  assert.ok(allOn(f, "3"));
});

test("manual approval: the coordinator requests it once and waits; no promote → rejected fleet-wide at the deadline", () => {
  const f = withOpenRollout();
  const approval = approvalOpts("reject");
  settleFleet(f, 60, approval);
  assert.equal(
    f.log
      .filter((l) => l.kind === "request-approval")
      .map((l) => l.replica)
      .join(),
    "a",
  );
  assert.equal(f.rollouts[0]?.decision, undefined);
  const waiting = planFor(f, "a", approval);
  assert.equal(waitReason(waiting), "approval");
  assert.match(waiting.reason, /run `tfs-rollout promote m`; rejected fleet-wide at/);
  replica(f, "a").w.now += 60_000;
  const timedOut = stepOnce(f, "a", approval).steps[0];
  assert.equal(timedOut?.kind === "fleet-decide" && timedOut.verdict, "reject");
  assert.match(
    timedOut?.kind === "fleet-decide" ? timedOut.reason : "",
    /approval timed out: no tfs-rollout promote within 1m/,
  );
  settleFleet(f, 60, approval);
  assert.ok(allOn(f, "1"));
  assert.equal(f.rollouts[0]?.removed !== undefined, true, "taken off the shared store once");
});

test("manual approval: the operator's fleet-wide promote (a promote decision) moves every replica; on_timeout promote decides itself", () => {
  const approved = withOpenRollout();
  const approval = approvalOpts("reject");
  settleFleet(approved, 60, approval);
  const rollout = approved.rollouts[0]!;
  rollout.decision = {
    verdict: "promote",
    reason: "operator promote",
    at: T0,
    by: "cli:alice",
    override: false,
  };
  settleFleet(approved, 60, approval);
  assert.ok(allOn(approved, "3"));

  const timeout = withOpenRollout();
  const promoteOnTimeout = approvalOpts("promote");
  settleFleet(timeout, 60, promoteOnTimeout);
  assert.equal(timeout.rollouts[0]?.decision, undefined);
  replica(timeout, "a").w.now += 60_000;
  settleFleet(timeout, 60, promoteOnTimeout);
  assert.equal(verdictOf(timeout), "promote");
  assert.ok(allOn(timeout, "3"));
});
