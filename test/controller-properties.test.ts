import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { checkModelPolicy } from "../src/controller/config-rules.js";
import { applyOutcome } from "../src/controller/outcome.js";
import { isConfigStep, plan } from "../src/controller/plan.js";
import type {
  DesiredState,
  DiskVersion,
  Failure,
  Intent,
  ModelPolicy,
  ObservedModelConfig,
  ObservedState,
  Step,
  VerdictRecord,
  VersionProgress,
} from "../src/controller/types.js";
import { isPlainChildName } from "../src/controller/versions.js";
import type { VersionStatus } from "../src/tfserving/model-status.js";
import {
  execute,
  handEdit,
  type World,
  managed,
  observe,
  OPTS,
  settle,
  status,
  T0,
  type Behaviour,
} from "./helpers/controller-world.js";

/** `arb` one time in four, else `otherwise`: keeps the earlier planners from always taking over. */
const rarely = <T, U>(arb: fc.Arbitrary<T>, otherwise: U): fc.Arbitrary<T | U> =>
  fc.oneof({ weight: 3, arbitrary: fc.constant(otherwise) }, { weight: 1, arbitrary: arb });

const VERSIONS = ["1", "2", "3", "4", "5", "6"];
const versionArb = fc.constantFrom(...VERSIONS);
const subsetArb = fc.subarray(VERSIONS);

const statusArb: fc.Arbitrary<VersionStatus | undefined> = fc.constantFrom(
  undefined,
  status("0", "START"),
  status("0", "LOADING"),
  status("0", "AVAILABLE"),
  status("0", "AVAILABLE"),
  status("0", "AVAILABLE"),
  status("0", "AVAILABLE"),
  status("0", "UNLOADING"),
  status("0", "END"),
  status("0", "END", "load failed"),
);
const statusesArb = fc
  .tuple(...VERSIONS.map(() => statusArb))
  .map((list) => list.flatMap((s, i) => (s ? [{ ...s, version: VERSIONS[i] as string }] : [])));

const labelsArb = fc.record({ stable: versionArb, canary: versionArb }, { requiredKeys: [] });
const policyArb: fc.Arbitrary<ObservedModelConfig["policy"]> = fc.oneof(
  { weight: 6, arbitrary: subsetArb.map((versions) => ({ kind: "specific" as const, versions })) },
  { weight: 1, arbitrary: fc.constant({ kind: "latest" as const, numVersions: 1 }) },
  { weight: 1, arbitrary: fc.constant({ kind: "all" as const }) },
);
const configArb: fc.Arbitrary<ObservedModelConfig> = fc.record({
  basePath: fc.constant("/models/m"),
  platform: fc.constant("tensorflow"),
  policy: policyArb,
  labels: labelsArb,
});

const diskArb: fc.Arbitrary<DiskVersion[]> = fc
  .uniqueArray(
    fc.record({
      version: versionArb,
      dirName: fc.constantFrom("", "00", "../", "a/"),
      admission: fc.constantFrom("complete", "complete", "pending", "overdue", "duplicate"),
    }),
    { selector: (d) => d.version },
  )
  .map((list) => list.map((d) => ({ ...d, dirName: `${d.dirName}${d.version}` })) as DiskVersion[]);

const verdictArb: fc.Arbitrary<VerdictRecord> = fc.record({
  verdict: fc.constantFrom("candidate", "promoted", "rejected", "skipped", "incomplete"),
  reason: fc.constant("r"),
  at: fc.integer({ min: T0 - 10_000, max: T0 }),
  by: fc.constant("daemon"),
});
const failureArb: fc.Arbitrary<Failure> = fc.record({
  reason: fc.constant("f"),
  at: fc.constant(T0),
  by: fc.constant("daemon"),
  allowServing: fc.boolean(),
});
const progressArb: fc.Arbitrary<VersionProgress> = fc.record(
  {
    loadStartedAt: fc.integer({ min: T0 - 2 * OPTS.loadTimeoutMs, max: T0 }),
    gate: fc.record({ passed: fc.boolean(), reason: fc.constant("g"), at: fc.constant(T0) }),
    failure: rarely(failureArb, undefined),
    quarantinedAs: fc.constant(".rejected-x"),
    retried: fc.boolean(),
  },
  { requiredKeys: [] },
);
const byVersion = <T>(arb: fc.Arbitrary<T>) =>
  fc.dictionary(versionArb, arb, { maxKeys: 4 }).map((o) => Object.fromEntries(Object.entries(o)));

const intentArb: fc.Arbitrary<Intent> = fc
  .oneof(
    fc.record({
      kind: fc.constant("promote" as const),
      version: fc.option(versionArb, { nil: undefined }),
      skipGates: fc.boolean(),
    }),
    fc.record({ kind: fc.constant("rollback" as const), to: fc.option(versionArb, { nil: undefined }) }),
    fc.record({ kind: fc.constant("pin" as const), version: versionArb }),
    fc.record({ kind: fc.constant("unpin" as const) }),
    fc.record({ kind: fc.constant("retry" as const), version: versionArb }),
  )
  .map((i) => ({ ...i, id: `i-${i.kind}`, by: "cli:op", at: T0 }) as Intent);

const modelPolicyArb: fc.Arbitrary<ModelPolicy> = fc.record({ specific: subsetArb, labels: labelsArb });
const inFlightStepArb: fc.Arbitrary<Step> = fc.oneof<fc.Arbitrary<Step>[]>(
  fc.record({
    kind: fc.constant("load" as const),
    model: fc.constant("m"),
    config: modelPolicyArb,
    version: versionArb,
  }),
  fc.record({
    kind: fc.constant("promote" as const),
    model: fc.constant("m"),
    config: modelPolicyArb,
    version: versionArb,
  }),
  fc.record({
    kind: fc.constant("trim" as const),
    model: fc.constant("m"),
    config: modelPolicyArb,
    dropped: fc.constant([] as string[]),
  }),
  versionArb.map((version): Step => ({
    kind: "quarantine",
    model: "m",
    version,
    basePath: "/models/m",
    dirName: version,
    action: "rename",
    newName: `.rejected-${version}`,
    reason: "",
  })),
  versionArb.map((version): Step => ({ kind: "gate", model: "m", version })),
);

const stateArb = fc
  .record({
    config: configArb,
    statuses: statusesArb,
    unreachable: fc.integer({ min: 0, max: 9 }),
    disk: diskArb,
    verdicts: byVersion(verdictArb),
    progress: byVersion(progressArb),
    pin: fc.option(fc.record({ version: versionArb, by: fc.constant("cli:op"), at: fc.constant(T0) }), {
      nil: undefined,
    }),
    lastWritten: fc.oneof(
      { weight: 4, arbitrary: fc.constant("same" as const) },
      { weight: 1, arbitrary: fc.constant(undefined) },
      { weight: 1, arbitrary: modelPolicyArb },
    ),
    verified: fc.option(versionArb, { nil: undefined }),
    rollback: fc.option(fc.record({ target: versionArb, reject: subsetArb }), { nil: undefined }),
    promote: fc.option(fc.record({ version: versionArb, skipGates: fc.boolean() }), { nil: undefined }),
    intents: rarely(fc.array(intentArb, { minLength: 1, maxLength: 2 }), [] as Intent[]),
    inFlight: rarely(inFlightStepArb, undefined),
    now: fc.integer({ min: T0, max: T0 + 2 * OPTS.loadTimeoutMs }),
  })
  .map((s) => {
    const observed: ObservedState = {
      config: s.config,
      status:
        s.unreachable === 0
          ? { kind: "unreachable", reason: "down" }
          : { kind: "reachable", versions: s.statuses },
      now: s.now,
    };
    const sameAsFile: ModelPolicy | undefined =
      s.config.policy.kind === "specific"
        ? { specific: s.config.policy.versions, labels: s.config.labels }
        : undefined;
    const desired: DesiredState = {
      model: "m",
      disk: s.disk,
      verdicts: s.verdicts,
      progress: s.progress,
      pin: s.pin,
      lastWritten: s.lastWritten === "same" ? sameAsFile : s.lastWritten,
      verified: s.verified === undefined ? undefined : { version: s.verified, at: T0 },
      rollback: s.rollback && { intentId: "i-rollback", action: "rename", ...s.rollback },
      promote: s.promote && { intentId: "i-promote", ...s.promote },
      intents: s.intents,
      inFlight: s.inFlight && { id: "j1", step: s.inFlight, startedAt: T0 },
    };
    // Plain JSON, as states come from the journal (fast-check builds some objects without a prototype).
    return JSON.parse(JSON.stringify({ desired, observed })) as {
      desired: DesiredState;
      observed: ObservedState;
    };
  });

/** The invariants every produced step must respect, whatever the state. */
function assertSafe(desired: DesiredState, observed: ObservedState, step: Step): void {
  if (observed.status.kind === "unreachable") {
    assert.equal(step.kind, "wait", "unreachable TF Serving means wait");
    return;
  }
  const config = observed.config as ObservedModelConfig;
  const available = new Set(
    observed.status.versions.filter((s) => s.state === "AVAILABLE").map((s) => s.version),
  );
  if (isConfigStep(step)) {
    assert.ok(step.config.specific.length > 0, "never an empty specific list");
    for (const [label, v] of Object.entries(step.config.labels)) {
      assert.ok(available.has(v), `label ${label} → ${v} must name an AVAILABLE version`);
      assert.ok(step.config.specific.includes(v), `label ${label} → ${v} must be listed`);
    }
    const readmitted = Object.keys(desired.progress).filter((v) => desired.progress[v]?.retried === true);
    const violations = checkModelPolicy(step.config, {
      model: "m",
      before: config,
      status: observed.status,
      stableLabel: "stable",
      readmitted,
    });
    assert.deepEqual(violations, [], `${step.kind} violates the safety rules`);
    if (config.labels.stable !== undefined)
      assert.ok(step.config.labels.stable !== undefined, "stable is never removed");
  }
  if (step.kind === "quarantine") {
    const v = step.version;
    assert.notEqual(v, config.labels.stable, "never quarantine stable");
    assert.ok(!Object.values(config.labels).includes(v), "never quarantine a labelled version");
    assert.ok(
      config.policy.kind !== "specific" || !config.policy.versions.includes(v),
      "never quarantine a listed version",
    );
    assert.ok(!(available.size === 1 && available.has(v)), "never quarantine the only serving version");
    assert.ok(isPlainChildName(step.dirName), "never anything outside base_path");
    const served = desired.verdicts[v]?.verdict === "promoted" || desired.verified?.version === v;
    const operator = desired.progress[v]?.failure?.allowServing === true;
    if (served) assert.ok(operator, "a served version needs an operator rollback");
    assert.ok(
      operator || desired.verdicts[v]?.verdict === "candidate",
      "automatically, only failed candidates",
    );
  }
}

test("property: for any desired/observed state, plan returns at most one step and it respects every invariant", () => {
  const seen = new Set<string>();
  fc.assert(
    fc.property(stateArb, ({ desired, observed }) => {
      const result = plan(desired, observed, OPTS);
      assert.ok(result.steps.length <= 1);
      assert.ok(result.reason.length > 0);
      for (const step of result.steps) {
        seen.add(step.kind);
        assertSafe(desired, observed, step);
      }
    }),
    { numRuns: 5000, seed: 20261121 },
  );
  // The generator must reach every kind of step, or the property proves little.
  const kinds = [
    "adopt",
    "load",
    "await-available",
    "gate",
    "promote",
    "verify",
    "trim",
    "rollback-config",
    "quarantine",
  ];
  assert.deepEqual(
    kinds.filter((k) => !seen.has(k)),
    [],
    `step kinds reached: ${[...seen].sort().join(", ")}`,
  );
});

test("property: plan is deterministic and does not modify its inputs", () => {
  fc.assert(
    fc.property(stateArb, ({ desired, observed }) => {
      const before = structuredClone({ desired, observed });
      const first = plan(desired, observed, OPTS);
      assert.deepEqual({ desired, observed }, before);
      assert.deepEqual(plan(structuredClone(desired), structuredClone(observed), OPTS), first);
    }),
    { numRuns: 500, seed: 20261122 },
  );
});

// ------------------------------------------------------------------------------------------------------------
// Whole runs against the simulated world, with crashes and operator actions at random points.

const behaviourArb: fc.Arbitrary<Behaviour> = fc.constantFrom("ok", "ok", "end", "stuck", "gate-fail");

const scenarioArb = fc.record({
  listed: fc.subarray(["1", "2", "3"], { minLength: 1 }),
  newVersions: fc.subarray(["4", "5", "6"]),
  behaviour: fc.tuple(...VERSIONS.map(() => behaviourArb)),
  intents: fc.array(fc.tuple(fc.integer({ min: 0, max: 20 }), intentArb), { maxLength: 2 }),
  crashes: fc.array(fc.tuple(fc.integer({ min: 0, max: 30 }), fc.boolean()), { maxLength: 3 }),
  outages: fc.array(fc.integer({ min: 0, max: 30 }), { maxLength: 2 }),
  edits: fc.array(
    fc.tuple(fc.integer({ min: 0, max: 30 }), fc.constantFrom("move-stable", "drop-oldest", "add-newest")),
    {
      maxLength: 2,
    },
  ),
});

/** An operator edits models.config by hand (only edits TF Serving accepts stick). */
function operatorEdit(
  w: World,
  handAdded: Set<string>,
  edit: "move-stable" | "drop-oldest" | "add-newest",
): void {
  if (w.config.policy.kind !== "specific") return;
  const listed = [...w.config.policy.versions].sort();
  const labels = { ...w.config.labels };
  if (edit === "move-stable") {
    const other = listed.filter((v) => v !== labels.stable && w.tf.get(v)?.state === "AVAILABLE").at(-1);
    if (other !== undefined) handEdit(w, listed, { ...labels, stable: other });
  } else if (edit === "drop-oldest") {
    handEdit(w, listed.slice(1), labels);
  } else {
    const newest = w.disk
      .map((v) => v.version)
      .sort()
      .at(-1);
    if (newest !== undefined && handEdit(w, [...new Set([...listed, newest])], labels)) handAdded.add(newest);
  }
}

test("property: simulated rollouts with crashes, outages, operator intents and hand edits never break TF Serving's rules", () => {
  fc.assert(
    fc.property(scenarioArb, (s) => {
      const listed = [...s.listed].sort();
      const stable = listed.at(-1) as string;
      const { d: start, w } = managed(listed, stable, [...listed, ...s.newVersions]);
      VERSIONS.forEach((v, i) => (w.behaviour[v] = s.behaviour[i] as Behaviour));
      let d: DesiredState = start;
      const crashes = new Map(s.crashes);
      const handAdded = new Set<string>();
      for (let i = 0; i < 80; i++) {
        for (const [at, intent] of s.intents)
          if (at === i) d = { ...d, intents: [...d.intents, { ...intent, id: `i${i}` }] };
        w.reachable = !s.outages.includes(i);
        for (const [at, edit] of s.edits)
          if (at === i) {
            operatorEdit(w, handAdded, edit);
            settle(w);
          }
        d = { ...d, disk: w.disk };
        const observed = observe(w);
        const result = plan(d, observed, OPTS);
        const step = result.steps[0];
        if (step === undefined) {
          // Converged: nothing failed is left half-handled, and no failed version is still listed.
          assert.deepEqual(
            Object.keys(d.progress).filter((v) => d.progress[v]?.failure),
            [],
          );
          const listed = w.config.policy.kind === "specific" ? w.config.policy.versions : [];
          assert.ok(
            listed.every((v) => w.tf.get(v)?.state === "AVAILABLE" || handAdded.has(v)),
            "converged means every listed version serves (versions an operator listed by hand are theirs)",
          );
          return;
        }
        assertSafe(d, observed, step);
        if (step.kind === "wait") {
          if (w.reachable) return;
          continue;
        }
        if (step.kind === "await-available") settle(w);
        const crash = crashes.get(i);
        if (crash !== undefined) {
          // Killed after journaling "begin"; `crash` says whether the step's effect happened before the kill.
          if (crash) execute(w, step);
          d = { ...d, inFlight: { id: `j${i}`, step, startedAt: w.now } };
          crashes.delete(i);
        } else {
          const outcome = execute(w, step);
          d = applyOutcome({ ...d, inFlight: undefined }, step, outcome, w.now).desired;
        }
        w.now += 1000;
        assert.ok(w.config.labels.stable !== undefined, "stable always set");
        assert.ok(
          w.disk.some((v) => v.version === w.config.labels.stable),
          "the stable version's directory is never removed",
        );
      }
      assert.fail("no convergence within 80 steps");
    }),
    { numRuns: 400, seed: 20261123 },
  );
});
