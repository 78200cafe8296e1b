// `tfs-rollout pin` / `unpin` against the emulator with the daemon stopped.
import assert from "node:assert/strict";
import { test } from "node:test";
import { loadControllerState } from "../src/engine/controller-state.js";
import { openLocalState } from "../src/state/local-store.js";
import { operator, reconcileUntil, rolledOut } from "./helpers/operator-world.js";
import { configState, publish, stableVersion, startWorld } from "./helpers/rollout-world.js";

test("pin holds stable while a new candidate is gated but not promoted; unpin releases it", async (t) => {
  const world = await startWorld();
  t.after(() => world.cleanup());
  await rolledOut(world, ["2"]);
  const state = await openLocalState(world.stateDir);

  const pinnedAt = Date.now();
  const pin = await operator(world, [
    "pin",
    "m",
    "2",
    "--reason",
    "incident 42",
    "--expires",
    "2h",
    "--json",
  ]);
  assert.equal(pin.code, 0, pin.err);
  const report = pin.json();
  assert.equal(report.outcome, "done");
  assert.equal(report.reason, "stable is pinned to 2");
  assert.deepEqual(report.stable, { before: "2", after: "2" });
  const { record } = await loadControllerState(state.journal, "m");
  assert.equal(record.pin?.version, "2");
  assert.equal(record.pin?.reason, "incident 42");
  assert.equal(record.pin?.by, "cli:tester");
  const expires = (record.pin?.expiresAt ?? 0) - pinnedAt;
  assert.ok(expires > 7_100_000 && expires <= 7_200_000 + 60_000, `expires in ${expires} ms`);

  publish(world.base, "3");
  await reconcileUntil(world, "3 gated and held", async () => {
    const now = await loadControllerState(state.journal, "m");
    return now.record.progress["3"]?.gate?.passed === true;
  });
  assert.equal(configState(world).labels.stable, "2", "the pin holds stable");
  assert.equal(await stableVersion(world), "2");

  const unpin = await operator(world, ["unpin", "m", "--json"]);
  assert.equal(unpin.code, 0, unpin.err);
  assert.equal(unpin.json().outcome, "done");
  assert.deepEqual(
    unpin.json().stable,
    { before: "2", after: "3" },
    "the held candidate is promoted at once",
  );
  assert.equal(await stableVersion(world), "3");
  assert.equal((await loadControllerState(state.journal, "m")).record.pin, undefined);
});

test("pin to another version moves stable there through the gates; bad pins are refused before anything is recorded", async (t) => {
  const world = await startWorld();
  t.after(() => world.cleanup());
  await rolledOut(world, ["2"]);
  assert.deepEqual(configState(world).specific, ["1", "2"]);

  const pin = await operator(world, ["pin", "m", "1"]);
  assert.equal(pin.code, 0, pin.err);
  assert.match(pin.out, /pin m: done: stable is pinned to 1\n {2}stable: 2 → 1\n/);
  assert.match(pin.out, /steps: set-pin, gate 1, promote 1, verify 1/);
  assert.equal(await stableVersion(world), "1");

  const state = await openLocalState(world.stateDir);
  const missing = await operator(world, ["pin", "m", "9", "--json"]);
  assert.equal(missing.code, 4, missing.err);
  assert.match(missing.err, /pin m 9 refused: version 9 is not on disk; nothing was changed/);
  const badExpiry = await operator(world, ["pin", "m", "2", "--expires", "soon"]);
  assert.equal(badExpiry.code, 2);
  assert.match(badExpiry.err, /--expires "soon" is not a duration/);
  const badVersion = await operator(world, ["pin", "m", "two"]);
  assert.equal(badVersion.code, 2);
  assert.match(badVersion.err, /VERSION "two" is not a version number/);
  const unknown = await operator(world, ["pin", "nope", "1"]);
  assert.equal(unknown.code, 2);
  assert.match(unknown.err, /model nope is not in models.config[\s\S]*models there: m/);
  assert.deepEqual(await state.intents.pending(), []);
  assert.equal(await stableVersion(world), "1");
});
