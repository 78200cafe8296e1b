import assert from "node:assert/strict";
import { mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { BasePathError, isInside, listVersionDirs } from "../src/admission/version-dirs.js";
import { tempDir } from "./helpers/version-dir.js";

function dirs(base: string, ...names: string[]): void {
  for (const name of names) mkdirSync(join(base, name));
}

test("versions are the int64-named children, ascending by number, with canonical version strings", async (t) => {
  const base = tempDir(t);
  dirs(base, "10", "00000123", "9", "123.tmp", ".rejected-7-20260101T000000Z", "v1", "1.0", "assets");
  const listing = await listVersionDirs(base);
  assert.deepEqual(
    listing.versions.map((v) => [v.version, v.dirName, v.path]),
    [
      ["9", "9", join(base, "9")],
      ["10", "10", join(base, "10")],
      ["123", "00000123", join(base, "00000123")],
    ],
  );
  assert.deepEqual(listing.duplicates, []);
  assert.deepEqual(listing.refused, []);
});

test("duplicates like 5 and 005 are reported with every name and TF's choice, and neither is listed", async (t) => {
  const base = tempDir(t);
  dirs(base, "5", "005", "+5", "6");
  const listing = await listVersionDirs(base);
  assert.deepEqual(
    listing.versions.map((v) => v.version),
    ["6"],
  );
  assert.equal(listing.duplicates.length, 1);
  const [dup] = listing.duplicates;
  assert.equal(dup!.version, "5");
  assert.deepEqual(dup!.dirNames, ["+5", "005", "5"]);
  assert.equal(dup!.loadedByTfServing, "5");
  assert.match(dup!.message, /TF Serving would load .*\/5 and ignore .*\/\+5, .*\/005/);
  assert.match(dup!.hint, /keep exactly one directory for version 5/);
});

test("a symlink whose target escapes the base path is refused; one inside it is resolved", async (t) => {
  const root = tempDir(t);
  const base = join(root, "model");
  mkdirSync(base);
  mkdirSync(join(root, "elsewhere"));
  mkdirSync(join(base, "store"));
  symlinkSync(join(root, "elsewhere"), join(base, "7"));
  symlinkSync(join(base, "store"), join(base, "8"));
  symlinkSync(".", join(base, "9"));
  const listing = await listVersionDirs(base);
  assert.deepEqual(
    listing.versions.map((v) => [v.version, v.realPath]),
    [["8", join(listing.realBasePath, "store")]],
  );
  assert.deepEqual(
    listing.refused.map((r) => [r.version, r.reason]),
    [
      ["7", "escapes-base-path"],
      ["9", "escapes-base-path"],
    ],
  );
  assert.match(listing.refused[0]!.message, /outside the base path/);
});

test("dangling symlinks and regular files named like versions are refused with a reason", async (t) => {
  const base = tempDir(t);
  symlinkSync(join(base, "nowhere"), join(base, "3"));
  writeFileSync(join(base, "4"), "not a directory");
  const listing = await listVersionDirs(base);
  assert.deepEqual(listing.versions, []);
  assert.deepEqual(
    listing.refused.map((r) => [r.version, r.reason]),
    [
      ["3", "dangling-symlink"],
      ["4", "not-a-directory"],
    ],
  );
});

test("a base path reached through a symlink works, versions resolved under its real path", async (t) => {
  const root = tempDir(t);
  mkdirSync(join(root, "real", "1"), { recursive: true });
  symlinkSync(join(root, "real"), join(root, "link"));
  const listing = await listVersionDirs(join(root, "link"));
  assert.equal(listing.versions.length, 1);
  assert.equal(listing.versions[0]!.path, join(root, "link", "1"));
  assert.ok(isInside(listing.realBasePath, listing.versions[0]!.realPath));
});

test("a missing base path is a BasePathError that says so", async (t) => {
  const root = tempDir(t);
  await assert.rejects(listVersionDirs(join(root, "absent")), (error: unknown) => {
    assert.ok(error instanceof BasePathError);
    assert.equal(error.problem, "missing");
    assert.equal(error.where, join(root, "absent"));
    assert.match(error.hint ?? "", /freezes version discovery/);
    return true;
  });
  writeFileSync(join(root, "file"), "");
  await assert.rejects(listVersionDirs(join(root, "file")), { problem: "not-a-directory" });
});

test("isInside is strict and component-wise", () => {
  assert.equal(isInside("/a/b", "/a/b/c"), true);
  assert.equal(isInside("/a/b", "/a/b"), false);
  assert.equal(isInside("/a/b", "/a/bc"), false);
  assert.equal(isInside("/", "/x"), true);
});
