import assert from "node:assert/strict";
import { test } from "node:test";
import { applyOutcome } from "../src/controller/outcome.js";
import { plan } from "../src/controller/plan.js";
import type { DesiredState } from "../src/controller/types.js";
import { complete, execute, kinds, managed, observe, OPTS, run, settle } from "./helpers/controller-world.js";

test("a candidate whose directory becomes refused while it loads (a symlink out of base_path) is failed, never promoted", () => {
  const { d, w } = managed(["2"], "2", ["2", "3"]);
  let desired: DesiredState = d;
  for (const expected of ["admit", "load", "await-available"]) {
    desired = { ...desired, disk: w.disk };
    const step = plan(desired, observe(w), OPTS).steps[0]!;
    assert.equal(step.kind, expected);
    if (step.kind === "await-available") settle(w);
    desired = applyOutcome(desired, step, execute(w, step), w.now).desired;
    w.now += 1000;
  }
  w.disk = [...complete("2"), { version: "3", dirName: "3", admission: "refused" }];
  const result = run(desired, w);
  assert.deepEqual(kinds(result.steps), ["mark-failed", "rollback-config", "quarantine", "record-verdict"]);
  assert.deepEqual(w.config.labels, { stable: "2" });
  assert.deepEqual(w.config.policy, { kind: "specific", versions: ["2"] });
  assert.match(result.desired.verdicts["3"]?.reason ?? "", /directory 3 is no longer admissible/);
});

test("the stable version itself is not failed when its directory is refused (verify only; nothing is taken down)", () => {
  const { d, w } = managed(["2"], "2", ["2"]);
  w.disk = [{ version: "2", dirName: "2", admission: "refused" }];
  const result = run({ ...d, disk: w.disk }, w);
  assert.ok(!kinds(result.steps).includes("mark-failed"), kinds(result.steps).join(" → "));
  assert.deepEqual(w.config.labels, { stable: "2" });
});
