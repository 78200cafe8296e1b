// `tfs-rollout retry` against the emulator with the daemon stopped.
import assert from "node:assert/strict";
import { readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { openLocalState } from "../src/state/local-store.js";
import { operator, reconcileUntil, rolledOut } from "./helpers/operator-world.js";
import { configState, publish, stableVersion, startWorld } from "./helpers/rollout-world.js";

test("retry restores a renamed directory and the version is rolled out again; a version not rejected is refused", async (t) => {
  const world = await startWorld();
  t.after(() => world.cleanup());
  await rolledOut(world);
  const state = await openLocalState(world.stateDir);
  publish(world.base, "2", { nan_outputs: true });
  await reconcileUntil(
    world,
    "2 rejected",
    async () => (await state.verdicts.get("m", "2"))?.verdict === "rejected",
  );
  const renamed = readdirSync(world.base).find((n) => n.startsWith(".rejected-2-"));
  assert.ok(renamed, readdirSync(world.base).join(" "));
  // What made it fail is fixed in place (here: the emulator's behaviour file).
  writeFileSync(join(world.base, renamed, "assets.extra", "emulator.json"), "{}");

  const run = await operator(world, ["retry", "m", "2", "--json"]);
  assert.equal(run.code, 0, run.err);
  const report = run.json();
  assert.equal(report.outcome, "done");
  assert.match(String(report.reason), new RegExp(`restored ${renamed} to 2 .*; 2 is now promoted`));
  assert.deepEqual(report.stable, { before: "1", after: "2" });
  assert.deepEqual(readdirSync(world.base).sort(), ["1", "2"]);
  assert.equal(await stableVersion(world), "2");
  assert.deepEqual(configState(world).labels, { stable: "2" });
  assert.equal((await state.verdicts.get("m", "2"))?.verdict, "promoted");

  const notRejected = await operator(world, ["retry", "m", "2"]);
  assert.equal(notRejected.code, 4, notRejected.err);
  assert.match(
    notRejected.err,
    /retry m refused: version 2 is not rejected, skipped or incomplete; nothing to retry/,
  );
});
