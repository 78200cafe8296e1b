// `tfs-rollout rollback` against the emulator with the daemon stopped: the plan, the confirmation, the refusals.
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { test } from "node:test";
import { openLocalState } from "../src/state/local-store.js";
import { operator, reconcileUntil, rolledOut } from "./helpers/operator-world.js";
import { configState, publish, stableVersion, startWorld, type World } from "./helpers/rollout-world.js";

/** models.config and the version directories, to show that nothing changed. */
const snapshot = (world: World) => ({
  config: readFileSync(world.configFile, "utf8"),
  dirs: readdirSync(world.base).sort(),
});

test("rollback without --to: stable back to the previous promoted version, the newer one renamed and rejected", async (t) => {
  const world = await startWorld();
  t.after(() => world.cleanup());
  await rolledOut(world, ["2", "3"]);
  assert.deepEqual(configState(world).specific, ["2", "3"]);

  const run = await operator(world, ["rollback", "m", "--yes", "--json"]);
  assert.equal(run.code, 0, run.err);
  const report = run.json();
  assert.equal(report.outcome, "done");
  assert.equal(report.reason, "rolled back to 2");
  assert.deepEqual(report.stable, { before: "3", after: "2" });
  assert.deepEqual(report.plan, {
    model: "m",
    stable: "3",
    target: "2",
    targetLoaded: true,
    action: "rename",
    reject: [{ version: "3", listed: true, dirName: "3" }],
  });
  const steps = (report.steps as { step: string }[]).map((s) => s.step);
  assert.deepEqual(steps, [
    "start-rollback",
    "promote",
    "verify",
    "rollback-config",
    "quarantine",
    "record-verdict",
    "finish-intent",
  ]);
  assert.equal((report.intent as { by: string }).by, "cli:tester");
  assert.match(run.err, /Rollback plan for model m:\n {2}stable: 3 → 2 \(2 is loaded and AVAILABLE/);

  assert.deepEqual(configState(world).labels, { stable: "2" });
  assert.deepEqual(configState(world).specific, ["2"]);
  assert.equal(await stableVersion(world), "2");
  const names = readdirSync(world.base);
  assert.ok(
    names.some((n) => /^\.rejected-3-\d{8}T\d{6}Z$/.test(n)),
    names.join(" "),
  );
  assert.ok(!names.includes("3"));
  const state = await openLocalState(world.stateDir);
  const verdict = await state.verdicts.get("m", "3");
  assert.equal(verdict?.verdict, "rejected");
  assert.match(verdict?.reason ?? "", /operator rollback to 2/);
});

test("rollback --to a version no longer loaded, with --delete: loaded, AVAILABLE, stable moved, newer ones deleted", async (t) => {
  const world = await startWorld();
  t.after(() => world.cleanup());
  await rolledOut(world, ["2", "3"]);
  assert.deepEqual(configState(world).specific, ["2", "3"], "1 was trimmed after 3 was verified");

  const run = await operator(world, ["rollback", "m", "--to", "1", "--delete", "--yes"]);
  assert.equal(run.code, 0, run.err);
  assert.match(run.out, /stable: 3 → 1 \(1 is not loaded: it is loaded first and must become AVAILABLE\)/);
  assert.match(run.out, /reject 2: removed from models\.config; directory 2 DELETED; marked rejected/);
  assert.match(run.out, /reject 3: removed from models\.config; directory 3 DELETED/);
  assert.match(run.out, /rollback m: done: rolled back to 1\n {2}stable: 3 → 1\n/);
  assert.match(
    run.out,
    /steps: start-rollback 1, load 1, (await-available 1, )?promote 1, verify 1, rollback-config 3,2, /,
  );
  assert.deepEqual(configState(world).labels, { stable: "1" });
  assert.deepEqual(configState(world).specific, ["1"]);
  assert.equal(await stableVersion(world), "1");
  assert.deepEqual(readdirSync(world.base).sort(), ["1"], "2 and 3 deleted, nothing renamed");
  const state = await openLocalState(world.stateDir);
  assert.equal((await state.verdicts.get("m", "2"))?.verdict, "rejected");
  assert.equal((await state.verdicts.get("m", "3"))?.verdict, "rejected");
});

test("rollback refusals (exit 4, nothing changed): rejected, failed-to-load, missing, not older, pinned", async (t) => {
  const world = await startWorld();
  t.after(() => world.cleanup());
  await rolledOut(world, ["2"]);
  const state = await openLocalState(world.stateDir);
  const rejected = async (v: string) => (await state.verdicts.get("m", v))?.verdict === "rejected";
  publish(world.base, "3", { nan_outputs: true });
  await reconcileUntil(world, "3 rejected", () => rejected("3"));
  publish(world.base, "4", { load_error: { code: "NOT_FOUND", message: "no graph" } });
  await reconcileUntil(world, "4 rejected", () => rejected("4"));
  await rolledOut(world, ["5"]);

  const before = snapshot(world);
  const cases: [string[], RegExp][] = [
    [["--to", "3"], /version 3 was rejected \(gate failed: .*\); retry it first/],
    [["--to", "4"], /version 4 was rejected \(.*no graph.*\)/],
    [["--to", "0"], /version 0 is not on disk/],
    [["--to", "5"], /rollback target 5 is not older than stable 5/],
  ];
  for (const [args, reason] of cases) {
    const run = await operator(world, ["rollback", "m", ...args, "--yes", "--json"]);
    assert.equal(run.code, 4, `${args.join(" ")}: ${run.err}`);
    assert.match(run.err, reason);
    assert.match(run.err, /nothing was changed/);
    const doc = run.json();
    assert.equal(doc.command, "rollback");
    assert.equal(doc.outcome, "refused");
    assert.equal(doc.intent, null);
    assert.match(String(doc.reason), reason);
    assert.match(String(doc.hint), /tfs-rollout status m/);
  }
  const pin = await operator(world, ["pin", "m", "5", "--reason", "incident 42"]);
  assert.equal(pin.code, 0, pin.err);
  const pinned = await operator(world, ["rollback", "m", "--yes"]);
  assert.equal(pinned.code, 4, pinned.err);
  assert.match(pinned.err, /the model is pinned to 5; unpin it first/);
  assert.deepEqual(snapshot(world), before, "no refusal changed models.config or a directory");
  assert.equal(await stableVersion(world), "5");
  assert.deepEqual(await state.intents.pending("m"), [], "a refused rollback records no intent");
});

test("confirmation: no terminal and no --yes refuses (exit 4); 'n' changes nothing (exit 1); 'y' applies", async (t) => {
  const world = await startWorld();
  t.after(() => world.cleanup());
  await rolledOut(world, ["2"]);
  const before = snapshot(world);

  const noTty = await operator(world, ["rollback", "m"]);
  assert.equal(noTty.code, 4, noTty.err);
  assert.match(noTty.out, /stable: 2 → 1/, "the plan is printed first");
  assert.match(noTty.err, /needs confirmation and there is no terminal to ask; nothing was changed/);
  assert.match(noTty.err, /--yes/);
  assert.deepEqual(noTty.prompts, []);

  const no = await operator(world, ["rollback", "m"], { answers: ["n"] });
  assert.equal(no.code, 1, no.err);
  assert.deepEqual(no.prompts, ["Roll m back to 1? [y/N] "]);
  assert.match(no.err, /rollback cancelled: nothing was changed/);
  assert.deepEqual(snapshot(world), before);
  const state = await openLocalState(world.stateDir);
  assert.deepEqual(await state.intents.pending("m"), []);

  const yes = await operator(world, ["rollback", "m", "--json"], { answers: ["y"] });
  assert.equal(yes.code, 0, yes.err);
  assert.equal(yes.json().outcome, "done");
  assert.deepEqual(configState(world).labels, { stable: "1" });
  assert.equal(await stableVersion(world), "1");
});
