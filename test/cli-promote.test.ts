// `tfs-rollout promote` against the emulator with the daemon stopped.
import assert from "node:assert/strict";
import { readdirSync, renameSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { writeSavedModel } from "../src/savedmodel/writer.js";
import { openLocalState } from "../src/state/local-store.js";
import { HALF_PLUS_TWO } from "./helpers/emulator-harness.js";
import { operator, rolledOut } from "./helpers/operator-world.js";
import { configState, publish, stableVersion, startWorld } from "./helpers/rollout-world.js";

test("promote runs the gates and promotes the newest version; nothing newer is refused", async (t) => {
  const world = await startWorld();
  t.after(() => world.cleanup());
  await rolledOut(world);
  publish(world.base, "2");

  const run = await operator(world, ["promote", "m", "--json"]);
  assert.equal(run.code, 0, run.err);
  const report = run.json();
  assert.equal(report.outcome, "done");
  assert.deepEqual(report.stable, { before: "1", after: "2" });
  const steps = (report.steps as { step: string }[]).map((s) => s.step);
  assert.ok(steps.includes("gate"), steps.join(" "));
  assert.equal(await stableVersion(world), "2");

  const nothing = await operator(world, ["promote", "m"]);
  assert.equal(nothing.code, 4, nothing.err);
  assert.match(nothing.err, /promote m refused: no version newer than stable to promote/);
});

test("promote --skip-gates promotes a version whose gate would fail, with a loud warning and a journaled step", async (t) => {
  const world = await startWorld();
  t.after(() => world.cleanup());
  await rolledOut(world);
  publish(world.base, "2", { nan_outputs: true });

  const run = await operator(world, ["promote", "m", "2", "--skip-gates", "--json"]);
  assert.equal(run.code, 0, run.err);
  assert.match(run.err, /WARN .*promoting m 2 WITHOUT GATES on operator request/);
  const report = run.json();
  assert.equal(report.skipGates, true);
  const steps = report.steps as { step: string; version?: string }[];
  assert.ok(!steps.some((s) => s.step === "gate"), "no gate ran");
  assert.ok(steps.some((s) => s.step === "start-promote" && s.version === "2"));
  assert.equal(await stableVersion(world), "2");
  const state = await openLocalState(world.stateDir);
  const started = (await state.journal.history("m")).find(
    (e) => (e.step as { kind?: string }).kind === "start-promote",
  );
  assert.equal((started?.step as { skipGates?: boolean }).skipGates, true, "the journal records the skip");
  assert.equal((await state.verdicts.get("m", "2"))?.verdict, "promoted");
});

test("promote with gates: a failing version is refused (exit 4), taken out of models.config and rejected", async (t) => {
  const world = await startWorld();
  t.after(() => world.cleanup());
  await rolledOut(world);
  publish(world.base, "2", { nan_outputs: true });

  const run = await operator(world, ["promote", "m", "2"]);
  assert.equal(run.code, 4, run.err);
  assert.match(run.err, /promote m refused: promote target 2 failed: gate failed: .*non-finite/);
  assert.deepEqual(configState(world).labels, { stable: "1" });
  assert.equal(await stableVersion(world), "1");
  assert.deepEqual(configState(world).specific, ["1"]);
  const state = await openLocalState(world.stateDir);
  assert.equal((await state.verdicts.get("m", "2"))?.verdict, "rejected");
  // Automatically only a failed candidate the daemon admitted goes off disk; 2 was never admitted.
  assert.ok(readdirSync(world.base).includes("2"));
});

test("a promote that cannot finish before --timeout exits 1, says what it waits for, and stays recorded", async (t) => {
  const world = await startWorld();
  t.after(() => world.cleanup());
  await rolledOut(world);
  // Two data shards announced, one present: the copy never completes.
  const staging = join(world.base, "2.tmp");
  writeSavedModel(staging, { signatures: HALF_PLUS_TWO, withVariables: true });
  renameSync(
    join(staging, "variables", "variables.data-00000-of-00001"),
    join(staging, "variables", "variables.data-00000-of-00002"),
  );
  renameSync(staging, join(world.base, "2"));

  const run = await operator(world, ["promote", "m", "2", "--timeout", "1s", "--json"]);
  assert.equal(run.code, 1, run.err);
  const report = run.json();
  assert.equal(report.outcome, "pending");
  assert.match(String(report.waitingFor), /^target-missing: promote target 2 is not complete on disk/);
  assert.match(run.err, /waiting: target-missing: promote target 2 is not complete on disk/);
  assert.match(
    run.err,
    /promote m not finished before --timeout[\s\S]*hint: intent [0-9a-f]+ stays recorded/,
  );
  const state = await openLocalState(world.stateDir);
  const pending = await state.intents.pending("m");
  assert.deepEqual(
    pending.map((i) => i.id),
    [(report.intent as { id: string }).id],
  );
  assert.equal(await stableVersion(world), "1");
});
