import assert from "node:assert/strict";
import { mkdirSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { dryAdmission } from "../src/commands/dry-admission.js";
import type { AdmissionConfig } from "../src/daemon-config/types.js";
import { snapshotTree } from "./helpers/cli-look.js";
import { tempDir, writeCompleteVersion, writeSavedModelPb } from "./helpers/version-dir.js";

const RULES: AdmissionConfig = { quiet_window: 2000, incomplete_deadline: 3_600_000 };

/** Sets every file's mtime under `dir` (the listed files of a version) to `at`. */
function age(dir: string, files: string[], at: number): void {
  for (const f of files) utimesSync(join(dir, f), at / 1000, at / 1000);
}
const FILES = ["saved_model.pb", "variables/variables.index", "variables/variables.data-00000-of-00001"];

test("dryAdmission: complete and quiet by mtime → complete; written just now → pending; says how it judged", async (t) => {
  const base = tempDir(t, "dry-admission-");
  const now = Date.now();
  writeCompleteVersion(join(base, "1"));
  age(join(base, "1"), FILES, now - 10_000);
  writeCompleteVersion(join(base, "2"));
  age(join(base, "2"), FILES, now - 500);
  const before = snapshotTree(base);
  const { versions, problem } = await dryAdmission(base, RULES, now, new Set());
  assert.equal(problem, undefined);
  const byVersion = new Map(versions.map((v) => [v.version, v]));
  assert.equal(byVersion.get("1")?.admission, "complete");
  assert.match(byVersion.get("1")?.detail ?? "", /quiet for 10s by mtime \(window 2s\)/);
  assert.equal(byVersion.get("2")?.admission, "pending");
  assert.match(byVersion.get("2")?.detail ?? "", /written 50\dms ago \(quiet window 2s\)/);
  assert.equal(snapshotTree(base), before, "only reads");
});

test("dryAdmission: marker mode — the marker decides, not the quiet window", async (t) => {
  const base = tempDir(t, "dry-admission-");
  const now = Date.now();
  writeCompleteVersion(join(base, "3"));
  age(join(base, "3"), FILES, now - 10_000);
  const rules = { ...RULES, marker_file: "_DONE" };
  const without = await dryAdmission(base, rules, now, new Set());
  assert.equal(without.versions[0]?.admission, "pending");
  assert.match(without.versions[0]?.detail ?? "", /waiting for marker _DONE/);
  writeFileSync(join(base, "3", "_DONE"), "");
  const withMarker = await dryAdmission(base, rules, now, new Set());
  assert.equal(withMarker.versions[0]?.admission, "complete");
  assert.match(withMarker.versions[0]?.detail ?? "", /marker _DONE present/);
});

test("dryAdmission: incomplete → pending with the reason, overdue past the deadline; settled versions not read", async (t) => {
  const base = tempDir(t, "dry-admission-");
  const now = Date.now();
  writeSavedModelPb(join(base, "4")); // no variables/
  writeFileSync(join(base, "4", "variables"), "not a directory");
  mkdirSync(join(base, "5"));
  writeFileSync(join(base, "5", "partial"), "x");
  age(join(base, "5"), ["partial"], now - 2 * 3_600_000);
  mkdirSync(join(base, "6"));
  const { versions } = await dryAdmission(base, RULES, now, new Set(["6"]));
  const byVersion = new Map(versions.map((v) => [v.version, v]));
  assert.equal(byVersion.get("4")?.admission, "pending");
  assert.match(byVersion.get("4")?.detail ?? "", /^incomplete: /);
  assert.equal(byVersion.get("5")?.admission, "overdue");
  assert.match(
    byVersion.get("5")?.detail ?? "",
    /unchanged for 2h \(by mtime\), past the incomplete deadline/,
  );
  assert.equal(byVersion.get("6")?.admission, "unchecked");
});

test("dryAdmission: duplicates and a missing base path are reported, not thrown", async (t) => {
  const base = tempDir(t, "dry-admission-");
  writeCompleteVersion(join(base, "7"));
  writeCompleteVersion(join(base, "007"));
  const { versions } = await dryAdmission(base, RULES, Date.now(), new Set());
  assert.equal(versions.find((v) => v.version === "7")?.admission, "duplicate");
  const missing = await dryAdmission(join(base, "nope"), RULES, Date.now(), new Set());
  assert.deepEqual(missing.versions, []);
  assert.match(missing.problem ?? "", /cannot list base path .*nope: missing/);
});
