// Hostile version directories against a real daemon (issue 9): a version that is a symlink escaping base_path, a
// file named like a version and junk names beside a real candidate. None of them is loaded, promoted, renamed or
// deleted; the directory a symlink points to is never touched; the real candidate is promoted.
import assert from "node:assert/strict";
import { mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { writeVersion } from "../helpers/emulator-harness.js";
import { configState, publish, tempRoot } from "../helpers/rollout-world.js";
import { startFaultWorld } from "./fault-world.js";
import { tally } from "./tally.js";
import { diffTrees, snapshotTree } from "./tree.js";

test("a symlink escaping base_path as a version, a file named 5, junk names: ignored; the real 6 is promoted", async (t) => {
  const fw = await startFaultWorld(t);
  const outside = tempRoot();
  t.after(() => outside.cleanup());
  writeVersion(outside.dir, "2");
  const before = snapshotTree(outside.dir);
  symlinkSync(join(outside.dir, "2"), join(fw.world.base, "2"));
  writeFileSync(join(fw.world.base, "5"), "a file named like a version");
  for (const name of ["+3", " 4", "1e3", "0x10", "v7"]) mkdirSync(join(fw.world.base, name));
  publish(fw.world.base, "6");
  fw.guard.protect("m", "6");
  await fw.waitStable("6", "past the hostile names");
  assert.ok(!configState(fw.world).specific.some((v) => ["2", "3", "4", "5"].includes(v)));
  assert.deepEqual(diffTrees(before, snapshotTree(outside.dir)), [], "the symlink's target is untouched");
  await fw.survived("hostile version directories beside a candidate");
  tally("bad_inputs", "hostile version directories against the daemon", 7);
});
