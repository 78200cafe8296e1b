import assert from "node:assert/strict";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { applyRestore } from "../src/engine/restore.js";
import { tempRoot } from "./helpers/rollout-world.js";

const step = (restoreFrom?: string) => ({
  kind: "clear-verdict" as const,
  model: "m",
  version: "3",
  intentId: "i",
  ...(restoreFrom === undefined ? {} : { restoreFrom }),
});

test("restore renames the quarantined directory back to its version number, once", async (t) => {
  const root = tempRoot();
  t.after(() => root.cleanup());
  mkdirSync(join(root.dir, ".rejected-3-20261121T120000Z"));
  writeFileSync(join(root.dir, ".rejected-3-20261121T120000Z", "saved_model.pb"), "x");
  const first = await applyRestore(step(".rejected-3-20261121T120000Z"), root.dir);
  assert.equal(first.ok, true, first.reason);
  assert.ok(existsSync(join(root.dir, "3", "saved_model.pb")));
  assert.ok(!existsSync(join(root.dir, ".rejected-3-20261121T120000Z")));
  const again = await applyRestore(step(".rejected-3-20261121T120000Z"), root.dir);
  assert.equal(again.ok, true, "a resumed step finds its own rename");
  assert.match(again.reason, /already back/);
});

test("restore never overwrites, never leaves base_path, and says what is missing", async (t) => {
  const root = tempRoot();
  t.after(() => root.cleanup());
  mkdirSync(join(root.dir, ".rejected-3-a"));
  mkdirSync(join(root.dir, "3"));
  const both = await applyRestore(step(".rejected-3-a"), root.dir);
  assert.equal(both.ok, false);
  assert.match(both.reason, /both .rejected-3-a and 3 exist/);
  const outside = await applyRestore(step("../elsewhere"), root.dir);
  assert.equal(outside.ok, false);
  assert.match(outside.reason, /not a quarantined child/);
  const gone = await applyRestore(step(".rejected-3-gone"), join(root.dir, "missing-base"));
  assert.equal(gone.ok, false);
  assert.match(gone.reason, /cannot resolve base path/);
  const vanished = await applyRestore({ ...step(".rejected-3-b"), version: "4" }, root.dir);
  assert.equal(vanished.ok, false);
  assert.match(vanished.reason, /is gone .*copy version 4 back/);
});
