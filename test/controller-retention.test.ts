import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { applyOutcome } from "../src/controller/outcome.js";
import { plan } from "../src/controller/plan.js";
import type { DesiredState, PlanOptions, ReclaimEntry, Step } from "../src/controller/types.js";
import { keptVersions } from "../src/controller/plan-retention.js";
import type { Ctx } from "../src/controller/plan-context.js";
import { observedPolicy, statusMap } from "../src/controller/versions.js";
import { complete, managed, observe, OPTS, run, T0, type World } from "./helpers/controller-world.js";

const DAY = 86_400_000;
const due = (keepPromoted = 2, extra: Partial<PlanOptions> = {}): PlanOptions => ({
  ...OPTS,
  retention: { keepPromoted, keepRejectedForMs: 7 * DAY, dueAt: T0 - 1000 },
  ...extra,
});

/**
 * Stable 6 (listed with previous 5); 1..5 promoted in order, 1..4 unloaded but still on disk; 7 rejected 10 days
 * ago (renamed), 8 rejected yesterday (renamed), 9 rejected long ago but deleted.
 */
function history(): { d: DesiredState; w: World } {
  const { d, w } = managed(["5", "6"], "6", ["1", "2", "3", "4", "5", "6"]);
  for (const v of ["1", "2", "3", "4", "5", "6"])
    d.verdicts[v] = {
      verdict: "promoted",
      reason: "earlier",
      at: T0 - 100 * DAY + Number(v) * DAY,
      by: "daemon",
    };
  d.verdicts["7"] = {
    verdict: "rejected",
    reason: "gate failed",
    at: T0 - 10 * DAY,
    by: "daemon",
    quarantinedAs: ".rejected-7-20261111T120000Z",
  };
  d.verdicts["8"] = {
    verdict: "rejected",
    reason: "gate failed",
    at: T0 - DAY,
    by: "daemon",
    quarantinedAs: ".rejected-8-20261120T120000Z",
  };
  d.verdicts["9"] = {
    verdict: "rejected",
    reason: "x",
    at: T0 - 50 * DAY,
    by: "daemon",
    quarantinedAs: "deleted",
  };
  return { d, w };
}

function reclaimOf(d: DesiredState, w: World, options: PlanOptions): Extract<Step, { kind: "reclaim" }> {
  const step = plan(d, observe(w), options).steps[0];
  assert.equal(step?.kind, "reclaim", JSON.stringify(step));
  return step as Extract<Step, { kind: "reclaim" }>;
}

function ctxOf(d: DesiredState, w: World, opts: PlanOptions): Ctx {
  const o = observe(w);
  const config = o.config!;
  return {
    d,
    o,
    opts,
    model: d.model,
    config,
    statuses: statusMap(o.status)!,
    current: observedPolicy(config),
    stable: config.labels.stable,
    disk: new Map(d.disk.map((v) => [v.version, v])),
  };
}

const dirs = (entries: ReclaimEntry[]) => entries.map((e) => e.dirName);

test("due retention reclaims superseded promoted versions beyond the newest K and rejected dirs older than D", () => {
  const { d, w } = history();
  const step = reclaimOf(d, w, due(2));
  assert.equal(step.basePath, "/models/m");
  assert.deepEqual(dirs(step.entries), ["1", "2", "3", "4", ".rejected-7-20261111T120000Z"]);
  assert.deepEqual(
    step.entries.map((e) => e.what),
    ["promoted", "promoted", "promoted", "promoted", "rejected"],
  );
});

test("K counts the newest promoted: keep_promoted 4 keeps 3 and 4 on disk", () => {
  const { d, w } = history();
  assert.deepEqual(dirs(reclaimOf(d, w, due(4)).entries), ["1", "2", ".rejected-7-20261111T120000Z"]);
});

test("never reclaimed: stable, previous stable (even unloaded), pinned, labelled, in-flight and candidates", () => {
  const { d, w } = managed(["6"], "6", ["1", "2", "3", "4", "5", "6", "7"]);
  for (const v of ["1", "2", "3", "4", "5", "6"])
    d.verdicts[v] = {
      verdict: "promoted",
      reason: "earlier",
      at: T0 - 100 * DAY + Number(v) * DAY,
      by: "daemon",
    };
  d.pin = { version: "2", by: "cli:bob", at: T0 - DAY, expiresAt: T0 - 1 };
  w.config.labels = { stable: "6" };
  d.verdicts["7"] = { verdict: "candidate", reason: "new", at: T0, by: "daemon" };
  d.progress["3"] = { retried: true };
  d.promote = { intentId: "i", version: "4", skipGates: false };
  const step = reclaimOf(d, w, due(1));
  // 6 stable, 5 the previous stable (unloaded), 2 pinned (even expired), 3 in progress, 4 an operator's promotion
  // target, 7 a candidate: only 1 goes.
  assert.deepEqual(dirs(step.entries), ["1"]);
  const kept = keptVersions(ctxOf(d, w, due(1)));
  assert.equal(kept.get("5"), "previous stable");
  assert.equal(kept.get("2"), "pinned");
});

test("a version TF Serving still holds or a label names is never reclaimed", () => {
  const { d, w } = history();
  w.config.labels = { stable: "6", canary: "4", old: "3" };
  d.lastWritten = { specific: ["5", "6"], labels: { canary: "4", old: "3", stable: "6" } };
  w.tf.set("2", { version: "2", state: "UNLOADING", error_code: "OK", error_message: "" });
  assert.deepEqual(dirs(reclaimOf(d, w, due(1)).entries), ["1", ".rejected-7-20261111T120000Z"]);
});

test("nothing to reclaim is still one (empty) reclaim step, which records the run", () => {
  const { d, w } = managed(["1"], "1");
  const step = reclaimOf(d, w, due(2));
  assert.deepEqual(step.entries, []);
  assert.equal(step.reason, "retention: nothing to reclaim");
  const folded = applyOutcome(d, step, { ok: true, reason: "nothing" }, T0).desired;
  assert.deepEqual(folded.retention, { at: T0 });
  assert.deepEqual(plan(folded, observe(w), due(2)).steps, [], "served until the next scheduled run");
});

test("not due, not configured, or stable not verified: no reclaim", () => {
  const { d, w } = history();
  assert.notEqual(plan(d, observe(w), OPTS).steps[0]?.kind, "reclaim");
  assert.notEqual(plan({ ...d, retention: { at: T0 - 500 } }, observe(w), due(2)).steps[0]?.kind, "reclaim");
  assert.notEqual(plan({ ...d, verified: undefined }, observe(w), due(2)).steps[0]?.kind, "reclaim");
  w.config = { ...w.config, policy: { kind: "latest", numVersions: 1 } };
  assert.notEqual(plan({ ...d, lastWritten: undefined }, observe(w), due(2)).steps[0]?.kind, "reclaim");
});

test("the fold marks reclaimed rejected directories deleted; a failed run is recorded but keeps the names", () => {
  const { d, w } = history();
  const step = reclaimOf(d, w, due(2));
  const ok = applyOutcome(d, step, { ok: true, reason: "done" }, T0).desired;
  assert.equal(ok.verdicts["7"]?.quarantinedAs, "deleted");
  assert.equal(ok.verdicts["8"]?.quarantinedAs, ".rejected-8-20261120T120000Z");
  const failed = applyOutcome(d, step, { ok: false, reason: "EACCES" }, T0).desired;
  assert.equal(failed.verdicts["7"]?.quarantinedAs, ".rejected-7-20261111T120000Z");
  assert.deepEqual(failed.retention, { at: T0 });
});

test("in a world loop retention runs once, keeps what it must and then converges", () => {
  const { d, w } = history();
  const result = run(d, w, due(2));
  assert.deepEqual(
    result.steps.map((s) => s.kind),
    ["reclaim"],
  );
  assert.deepEqual(
    w.disk.map((v) => v.version),
    ["5", "6"],
  );
  assert.deepEqual(w.config.labels, { stable: "6" });
  assert.deepEqual(complete("5", "6"), w.disk);
});

test("a reclaim in flight after a crash is abandoned and re-planned, never resumed blindly", () => {
  const { d, w } = history();
  const step = reclaimOf(d, w, due(2));
  const crashed: DesiredState = { ...d, inFlight: { id: "j1", step, startedAt: T0 } };
  const next = plan(crashed, observe(w), due(2)).steps[0];
  assert.equal(next?.kind, "abandon");
});

test("property: a reclaim never names stable, a pinned, labelled, listed or in-progress version, nor the newest K promoted", () => {
  const VERSIONS = ["1", "2", "3", "4", "5", "6", "7", "8"];
  const verdictArb = fc.constantFrom("promoted", "promoted", "rejected", "candidate", "skipped", "none");
  let reclaimedPromoted = 0;
  fc.assert(
    fc.property(
      fc.tuple(...VERSIONS.map(() => verdictArb)),
      fc.tuple(...VERSIONS.map(() => fc.integer({ min: 0, max: 30 }))),
      fc.constantFrom(...VERSIONS),
      fc.subarray(VERSIONS),
      fc.option(fc.constantFrom(...VERSIONS), { nil: undefined }),
      fc.option(fc.constantFrom(...VERSIONS), { nil: undefined }),
      fc.subarray(VERSIONS),
      fc.integer({ min: 1, max: 4 }),
      (verdicts, ages, stable, extraListed, pinned, canary, inProgress, keep) => {
        const listed = [...new Set([stable, ...extraListed])];
        const { d, w } = managed(listed, stable, VERSIONS);
        d.verdicts = {};
        VERSIONS.forEach((v, i) => {
          const kind = verdicts[i]!;
          const at = T0 - ages[i]! * DAY;
          if (kind === "rejected")
            d.verdicts[v] = {
              verdict: "rejected",
              reason: "x",
              at,
              by: "daemon",
              quarantinedAs: `.rejected-${v}-x`,
            };
          else if (kind !== "none") d.verdicts[v] = { verdict: kind, reason: "x", at, by: "daemon" };
        });
        if (pinned !== undefined) d.pin = { version: pinned, by: "cli:p", at: T0 };
        if (canary !== undefined && listed.includes(canary)) {
          w.config.labels = { ...w.config.labels, canary };
          d.lastWritten = { specific: [...listed].sort(), labels: { ...w.config.labels } };
        }
        for (const v of inProgress) d.progress[v] = { retried: true };
        const step = plan(d, observe(w), due(keep)).steps[0];
        if (step?.kind !== "reclaim") return;
        if (step.entries.some((e) => e.what === "promoted")) reclaimedPromoted++;
        const newestPromoted = Object.entries(d.verdicts)
          .filter(([, r]) => r.verdict === "promoted")
          .sort(([va, a], [vb, b]) => b.at - a.at || Number(vb) - Number(va))
          .slice(0, keep)
          .map(([v]) => v);
        for (const entry of step.entries) {
          if (entry.what === "rejected") {
            assert.equal(d.verdicts[entry.version]?.verdict, "rejected");
            assert.ok(d.verdicts[entry.version]!.at + 7 * DAY <= T0);
            continue;
          }
          const v = entry.version;
          assert.notEqual(v, stable);
          assert.notEqual(v, pinned);
          assert.ok(!listed.includes(v), `listed ${v}`);
          assert.ok(!Object.values(w.config.labels).includes(v));
          assert.ok(!inProgress.includes(v));
          assert.ok(!newestPromoted.includes(v), `newest promoted ${v}`);
          assert.equal(d.verdicts[v]?.verdict, "promoted");
          assert.ok(Number(v) < Number(stable));
        }
      },
    ),
    { numRuns: 300 },
  );
  assert.ok(reclaimedPromoted > 10, `only ${reclaimedPromoted} runs reclaimed a promoted version`);
});
