import assert from "node:assert/strict";
import { mkdirSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { watchBasePath } from "../src/admission/base-path-watch.js";
import { waitFor } from "./helpers/emulator-harness.js";
import { tempDir } from "./helpers/version-dir.js";

function recording(base: string) {
  const children: [string, string][] = [];
  let gone = 0;
  const errors: unknown[] = [];
  const watch = watchBasePath(base, statSync(base, { bigint: true }).ino, {
    onChild: (event, path) => children.push([event, path]),
    onGone: () => gone++,
    onError: (error) => errors.push(error),
  });
  return { watch, children, gone: () => gone, errors };
}

test("a version renamed in is one event naming it; names that are not versions are dropped", async (t) => {
  const base = tempDir(t);
  const r = recording(base);
  t.after(() => r.watch.close());
  writeFileSync(join(base, "NOTES.txt"), "x");
  mkdirSync(join(base, "7.tmp"));
  mkdirSync(join(base, ".rejected-3-20260101T000000Z"));
  renameSync(join(base, "7.tmp"), join(base, "7"));
  await waitFor("the rename seen", () => r.children.length > 0);
  assert.deepEqual(r.children, [["rename", join(base, "7")]]);
});

test("the base path deleted: onGone once, then silence; close() is idempotent", async (t) => {
  const root = tempDir(t);
  const base = join(root, "model");
  mkdirSync(base);
  const r = recording(base);
  rmSync(base, { recursive: true });
  await waitFor("gone reported", () => r.gone() === 1);
  mkdirSync(base);
  mkdirSync(join(base, "1")); // a new directory: the old watch follows the old inode, which is no more
  assert.equal(r.gone(), 1);
  assert.deepEqual(r.children, []);
  r.watch.close();
  r.watch.close();
});

test("a base path that does not exist cannot be watched: it throws, and the caller falls back", (t) => {
  const root = tempDir(t);
  const handlers = { onChild: () => {}, onGone: () => {}, onError: () => {} };
  assert.throws(() => watchBasePath(join(root, "missing"), 0n, handlers), /ENOENT/);
});
