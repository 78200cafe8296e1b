import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { checkConfigSafety } from "../src/controller/config-rules.js";
import { simulate } from "../src/controller/simulate.js";
import type {
  DesiredState,
  DiskVersion,
  Intent,
  ObservedState,
  VerdictRecord,
} from "../src/controller/types.js";
import type { ModelServerConfigObject } from "../src/modelconfig/validate.js";
import type { VersionStatus } from "../src/tfserving/model-status.js";
import { complete, managed, observe, OPTS, status, T0 } from "./helpers/controller-world.js";

const kinds = (sim: ReturnType<typeof simulate>) => sim.steps.map((s) => s.step.kind);

test("simulate: a new complete version is admitted, loaded, gated, promoted and verified; final policy returned", () => {
  const { d, w } = managed(["1"], "1", ["1", "2"]);
  const sim = simulate(d, observe(w), OPTS);
  // The load makes 2 AVAILABLE at once, so there is nothing to await.
  assert.deepEqual(kinds(sim), ["admit", "load", "gate", "promote", "verify"]);
  assert.equal(sim.end.kind, "converged");
  assert.deepEqual(sim.finalPolicy, { specific: ["1", "2"], labels: { stable: "2" } });
  assert.deepEqual(sim.finalConfig?.labels, { stable: "2" });
  assert.equal(sim.desired.verdicts["2"]?.verdict, "promoted");
});

test("simulate: is pure — the inputs are not changed", () => {
  const { d, w } = managed(["1"], "1", ["1", "2"]);
  const o = observe(w);
  const dBefore = structuredClone(d);
  const oBefore = structuredClone(o);
  simulate(d, o, OPTS);
  assert.deepEqual(d, dBefore);
  assert.deepEqual(o, oBefore);
});

test("simulate: already converged → no step", () => {
  const { d, w } = managed(["1"], "1");
  const sim = simulate(d, observe(w), OPTS);
  assert.deepEqual(sim.steps, []);
  assert.equal(sim.end.kind, "converged");
  assert.equal(sim.finalPolicy, undefined);
});

test("simulate: stops at a wait and says why (TF Serving unreachable, a version still being copied)", () => {
  const { d, w } = managed(["1"], "1", ["1", "2"]);
  w.reachable = false;
  const down = simulate(d, observe(w), OPTS);
  assert.equal(down.end.kind, "wait");
  assert.match(down.end.reason, /unreachable/);
  assert.deepEqual(down.steps, []);

  const copying = managed(["1"], "1", ["1"]);
  copying.d.disk = [...complete("1"), { version: "2", dirName: "2", admission: "pending" }];
  const sim = simulate(copying.d, observe(copying.w), OPTS);
  assert.equal(sim.end.kind, "wait");
  assert.match(sim.end.reason, /2.*still being copied/);
});

test("simulate: a failed candidate is rolled back: config, quarantine (disk entry gone), verdict rejected", () => {
  const { d, w } = managed(["1", "2"], "1", ["1", "2"]);
  d.verdicts["2"] = { verdict: "candidate", reason: "new", at: T0, by: "daemon" };
  d.progress["2"] = {
    loadStartedAt: T0,
    failure: { reason: "gate failed: NaN", at: T0, by: "daemon", allowServing: false },
  };
  d.lastWritten = { specific: ["1", "2"], labels: { stable: "1" } };
  const sim = simulate(d, observe(w), OPTS);
  assert.deepEqual(kinds(sim), ["rollback-config", "quarantine", "record-verdict"]);
  assert.deepEqual(sim.finalPolicy, { specific: ["1"], labels: { stable: "1" } });
  assert.equal(sim.desired.verdicts["2"]?.verdict, "rejected");
  assert.deepEqual(
    sim.desired.disk.map((v) => v.version),
    ["1"],
  );
  assert.equal(sim.end.kind, "converged");
});

test("simulate: an operator pin intent is recorded and the candidate then waits behind the pin", () => {
  const { d, w } = managed(["1"], "1", ["1", "2"]);
  d.intents = [{ id: "p1", by: "cli:op", at: T0, kind: "pin", version: "1", reason: "freeze" }];
  const sim = simulate(d, observe(w), OPTS);
  assert.equal(sim.steps[0]?.step.kind, "set-pin");
  assert.equal(sim.desired.pin?.version, "1");
  assert.deepEqual(sim.desired.intents, []);
  assert.ok(!kinds(sim).includes("promote"), kinds(sim).join(" "));
});

test("simulate: stops after maxSteps with end 'limit'", () => {
  const { d, w } = managed(["1"], "1", ["1", "2"]);
  const sim = simulate(d, observe(w), OPTS, 2);
  assert.equal(sim.steps.length, 2);
  assert.equal(sim.end.kind, "limit");
});

// ---------------------------------------------------------------------------------------------------------------
// Property: from any plausible state the simulation ends (converged or waiting, never the step limit) and every
// config it would write passes checkConfigSafety against what it observed right before.

const VERSIONS = ["1", "2", "3", "4", "5"];
const versionArb = fc.constantFrom(...VERSIONS);
const stateArb: fc.Arbitrary<VersionStatus["state"] | undefined> = fc.constantFrom(
  undefined,
  "LOADING",
  "AVAILABLE",
  "AVAILABLE",
  "END",
);
const verdictArb = fc.option(
  fc.constantFrom<VerdictRecord["verdict"]>("candidate", "promoted", "rejected", "skipped", "incomplete"),
  { nil: undefined },
);
const intentArb: fc.Arbitrary<Intent> = fc
  .oneof(
    fc.record({ kind: fc.constant("promote" as const), version: versionArb, skipGates: fc.boolean() }),
    fc.record({ kind: fc.constant("rollback" as const) }),
    fc.record({ kind: fc.constant("pin" as const), version: versionArb }),
    fc.record({ kind: fc.constant("unpin" as const) }),
    fc.record({ kind: fc.constant("retry" as const), version: versionArb }),
  )
  .map((i) => ({ ...i, id: `i-${i.kind}`, by: "cli:op", at: T0 }) as Intent);

const worldArb = fc.record({
  stable: versionArb,
  listed: fc.subarray(VERSIONS),
  disk: fc.subarray(VERSIONS),
  admission: fc.array(
    fc.constantFrom<DiskVersion["admission"]>("complete", "complete", "pending", "overdue"),
    {
      minLength: 5,
      maxLength: 5,
    },
  ),
  states: fc.array(stateArb, { minLength: 5, maxLength: 5 }),
  verdicts: fc.array(verdictArb, { minLength: 5, maxLength: 5 }),
  intents: fc.array(intentArb, { maxLength: 2 }),
});

type WorldInput = typeof worldArb extends fc.Arbitrary<infer T> ? T : never;

function build(x: WorldInput): { d: DesiredState; o: ObservedState } | undefined {
  const listed = [...new Set([...x.listed, x.stable])].sort();
  const { d, w } = managed(listed, x.stable, [...new Set([...x.disk, x.stable])].sort());
  d.disk = d.disk.map((v) => ({
    ...v,
    admission: v.version === x.stable ? "complete" : x.admission[Number(v.version) - 1]!,
  }));
  for (const [i, v] of VERSIONS.entries()) {
    const state = v === x.stable ? "AVAILABLE" : x.states[i];
    if (state === undefined) w.tf.delete(v);
    else w.tf.set(v, status(v, state, state === "END" && i % 2 === 0 ? "load failed" : ""));
    const verdict = x.verdicts[i];
    if (v === x.stable) continue;
    if (verdict === undefined) delete d.verdicts[v];
    else d.verdicts[v] = { verdict, reason: "r", at: T0 - 10, by: "daemon" };
  }
  d.intents = x.intents;
  return { d, o: observe(w) };
}

function proposedConfig(o: ObservedState, policy: { specific: string[]; labels: Record<string, string> }) {
  return {
    model_config_list: {
      config: [
        {
          name: "m",
          base_path: o.config!.basePath,
          model_platform: "tensorflow",
          model_version_policy: { specific: { versions: policy.specific } },
          version_labels: policy.labels,
        },
      ],
    },
  } as ModelServerConfigObject;
}

function currentConfig(o: ObservedState): ModelServerConfigObject {
  const c = o.config!;
  const policy =
    c.policy.kind === "specific"
      ? { specific: { versions: c.policy.versions } }
      : c.policy.kind === "all"
        ? { all: {} }
        : { latest: { num_versions: c.policy.numVersions } };
  return {
    model_config_list: {
      config: [
        {
          name: "m",
          base_path: c.basePath,
          model_platform: "tensorflow",
          model_version_policy: policy,
          version_labels: c.labels,
        },
      ],
    },
  } as ModelServerConfigObject;
}

test("simulate (property): terminates without hitting the limit, and every simulated config passes checkConfigSafety", () => {
  let configSteps = 0;
  fc.assert(
    fc.property(worldArb, (x) => {
      const built = build(x);
      if (built === undefined) return;
      const sim = simulate(built.d, built.o, OPTS, 80);
      assert.notEqual(sim.end.kind, "limit", `looped: ${sim.steps.map((s) => s.step.kind).join(" → ")}`);
      for (const { step, before, desired } of sim.steps) {
        if (!("config" in step)) continue;
        configSteps++;
        const violations = checkConfigSafety(proposedConfig(before, step.config), {
          status: { m: before.status },
          current: currentConfig(before),
          stableLabel: "stable",
          readmitted: {
            m: Object.keys(desired.progress).filter((v) => desired.progress[v]?.retried === true),
          },
        });
        assert.deepEqual(violations, [], `${step.kind} ${JSON.stringify(step.config)}`);
      }
    }),
    { numRuns: 300 },
  );
  assert.ok(configSteps > 100, `only ${configSteps} config steps were checked`);
});
