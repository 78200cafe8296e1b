import assert from "node:assert/strict";
import { test } from "node:test";
import { plan } from "../src/controller/plan.js";
import type { PlanOptions, Step } from "../src/controller/types.js";
import { kinds, managed, observe, OPTS, run } from "./helpers/controller-world.js";

const BAKE = 10 * 60_000;
const opts = (extra: Partial<PlanOptions>): PlanOptions => ({ ...OPTS, ...extra });

test("keep_previous 1 (the default): after a promotion only the previous stable stays loaded", () => {
  const { d, w } = managed(["1", "2", "3"], "3", ["1", "2", "3", "4"]);
  const result = run(d, w, opts({ keepPrevious: 1 }));
  assert.deepEqual(w.config.policy, { kind: "specific", versions: ["3", "4"] });
  const trims = result.steps.filter((s): s is Extract<Step, { kind: "trim" }> => s.kind === "trim");
  assert.deepEqual(
    trims.map((t) => t.dropped),
    [["1"], ["2"]],
    "1 is older than the previous stable 2 at once; 2 once 4 is verified",
  );
  assert.match(plan(result.desired, observe(w), OPTS).reason, /converged/);
});

test("keep_previous 2 keeps the two most recently promoted previous versions warm", () => {
  const { d, w } = managed(["1", "2", "3"], "3", ["1", "2", "3", "4"]);
  run(d, w, opts({ keepPrevious: 2 }));
  assert.deepEqual(w.config.policy, { kind: "specific", versions: ["2", "3", "4"] });
});

test("keep_previous counts promotions by recency, not by version number", () => {
  const { d, w } = managed(["1", "2", "3"], "3", ["1", "2", "3", "4"]);
  // 1 was promoted after 2 (e.g. a rollback to 1, then 3): 1 is the more recent previous version.
  d.verdicts["1"] = {
    verdict: "promoted",
    reason: "rolled back to",
    at: d.verdicts["2"]!.at + 10,
    by: "daemon",
  };
  d.verdicts["3"] = { verdict: "promoted", reason: "later", at: d.verdicts["1"]!.at + 10, by: "daemon" };
  run(d, w, opts({ keepPrevious: 2 }));
  assert.deepEqual(w.config.policy, { kind: "specific", versions: ["1", "2", "3", "4"] }, "3 and 1 are kept");
});

test("keep_previous 0 keeps the previous stable during the bake period and unloads it once it is over", () => {
  const { d, w } = managed(["3"], "3", ["3", "4"]);
  const options = opts({ keepPrevious: 0, bakePeriodMs: BAKE });
  const rollout = run(d, w, options);
  assert.deepEqual(kinds(rollout.steps), ["admit", "load", "await-available", "gate", "promote", "verify"]);
  assert.deepEqual(w.config.policy, { kind: "specific", versions: ["3", "4"] }, "nothing trimmed yet");
  assert.equal(plan(rollout.desired, observe(w), options).steps.length, 0, "converged while baking");

  w.now = rollout.desired.verified!.at + BAKE - 1;
  assert.equal(
    plan(rollout.desired, observe(w), options).steps.length,
    0,
    "still baking a millisecond before",
  );

  w.now = rollout.desired.verified!.at + BAKE;
  const after = plan(rollout.desired, observe(w), options);
  const trim = after.steps[0] as Extract<Step, { kind: "trim" }>;
  assert.equal(trim.kind, "trim");
  assert.deepEqual(trim.dropped, ["3"]);
  assert.deepEqual(trim.config, { specific: ["4"], labels: { stable: "4" } });
  assert.match(after.reason, /bake period of 4 is over/);
});

test("keep_previous 0 without a bake period unloads the previous stable right after the verify", () => {
  const { d, w } = managed(["3"], "3", ["3", "4"]);
  const result = run(d, w, opts({ keepPrevious: 0, bakePeriodMs: 0 }));
  assert.equal(result.steps.at(-1)?.kind, "trim");
  assert.deepEqual(w.config.policy, { kind: "specific", versions: ["4"] });
});

test("keep_previous 1 during a bake period behaves as before: older versions go, the previous stays", () => {
  const { d, w } = managed(["1", "3"], "3", ["1", "3", "4"]);
  run(d, w, opts({ keepPrevious: 1, bakePeriodMs: BAKE }));
  assert.deepEqual(w.config.policy, { kind: "specific", versions: ["3", "4"] });
});

test("a labelled version is never unloaded, whatever keep_previous says", () => {
  const { d, w } = managed(["1", "3"], "3", ["1", "3", "4"]);
  w.config.labels = { stable: "3", old: "1" };
  d.lastWritten = { specific: ["1", "3"], labels: { stable: "3", old: "1" } };
  run(d, w, opts({ keepPrevious: 0 }));
  assert.deepEqual(w.config.policy, { kind: "specific", versions: ["1", "4"] });
  assert.deepEqual(w.config.labels, { stable: "4", old: "1" });
});

test("an adopted stable (not promoted by the controller) is never trimmed around", () => {
  const { d, w } = managed(["1", "2"], "2");
  delete d.verdicts["2"];
  const result = plan(d, observe(w), opts({ keepPrevious: 0 }));
  assert.equal(result.steps.length, 0, result.reason);
});
