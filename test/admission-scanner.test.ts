import assert from "node:assert/strict";
import { mkdirSync, renameSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { plan } from "../src/controller/plan.js";
import { DEFAULT_PLAN_OPTIONS, type ObservedState } from "../src/controller/types.js";
import { desiredState, diskVersions } from "../src/engine/observe.js";
import { admissionRules } from "../src/admission/quiet-window.js";
import { AdmissionScanner } from "../src/admission/scanner.js";
import { VALID_INDEX, tempDir, writeCompleteVersion, writeSavedModelPb } from "./helpers/version-dir.js";

function admissionOf(scan: Awaited<ReturnType<AdmissionScanner["scan"]>>): Record<string, string> {
  return Object.fromEntries(scan.versions.map((v) => [v.version, v.admission]));
}

test("a half-copied directory, files arriving one by one, stays pending until complete and quiet", async (t) => {
  const base = tempDir(t);
  const scanner = new AdmissionScanner({ rules: admissionRules({ quietWindowMs: 2000 }) });
  const version = join(base, "5");
  mkdirSync(version);
  let scan = await scanner.scan("m", base, 0);
  assert.deepEqual(admissionOf(scan), { "5": "pending" });
  assert.deepEqual(scan.pendingPaths, [version]);
  assert.match(scan.versions[0]!.detail!, /no saved_model.pb/);

  writeSavedModelPb(version); // complete by itself (no variables/ yet): only the quiet window protects it
  scan = await scanner.scan("m", base, 1500);
  assert.equal(scan.versions[0]!.admission, "pending");
  assert.equal(scan.recheckInMs, 2000);

  mkdirSync(join(version, "variables"));
  writeFileSync(join(version, "variables", "variables.index"), VALID_INDEX);
  scan = await scanner.scan("m", base, 3000);
  assert.equal(scan.versions[0]!.admission, "pending");
  assert.deepEqual(
    scan.versions[0]!.reasons!.map((r) => r.code),
    ["variables-data-missing"],
  );

  writeFileSync(join(version, "variables", "variables.data-00000-of-00001"), "data");
  scan = await scanner.scan("m", base, 3100);
  assert.equal(scan.versions[0]!.admission, "pending", "complete now, but just changed");
  assert.equal(scan.recheckInMs, 2000);
  scan = await scanner.scan("m", base, 5099);
  assert.equal(scan.versions[0]!.admission, "pending");
  scan = await scanner.scan("m", base, 5100);
  assert.equal(scan.versions[0]!.admission, "complete");
  assert.deepEqual(scan.pendingPaths, []);
  assert.equal(scan.recheckInMs, undefined);
});

test("marker mode: a complete tree waits for the marker, which may come long after the directory", async (t) => {
  const base = tempDir(t);
  const scanner = new AdmissionScanner({ rules: admissionRules({ markerFile: "_SUCCESS" }) });
  writeCompleteVersion(join(base, "8"));
  assert.equal((await scanner.scan("m", base, 0)).versions[0]!.admission, "pending");
  assert.equal((await scanner.scan("m", base, 600_000)).versions[0]!.admission, "pending");
  writeFileSync(join(base, "8", "_SUCCESS"), "");
  assert.equal((await scanner.scan("m", base, 600_001)).versions[0]!.admission, "complete");
});

test("a directory that never completes is reported overdue once, then no longer watched", async (t) => {
  const base = tempDir(t);
  const scanner = new AdmissionScanner({ rules: admissionRules({ quietWindowMs: 10, deadlineMs: 1000 }) });
  mkdirSync(join(base, "3"));
  writeFileSync(join(base, "3", "saved_model.pb"), Buffer.from([0x12, 0x50])); // cut short
  const first = await scanner.scan("m", base, 0);
  assert.equal(first.versions[0]!.admission, "pending");
  assert.equal(first.recheckInMs, 1000);
  const overdue = await scanner.scan("m", base, 1000);
  assert.equal(overdue.versions[0]!.admission, "overdue");
  assert.deepEqual(
    overdue.newlyOverdue.map((v) => v.version),
    ["3"],
  );
  assert.match(overdue.newlyOverdue[0]!.detail!, /corrupt SavedModel/);
  assert.deepEqual(overdue.pendingPaths, []);
  const later = await scanner.scan("m", base, 2000);
  assert.equal(later.versions[0]!.admission, "overdue");
  assert.deepEqual(later.newlyOverdue, [], "reported once");
});

test("duplicates and refused versions are listed as such; settled versions are not read", async (t) => {
  const root = tempDir(t);
  const base = join(root, "m");
  mkdirSync(base);
  mkdirSync(join(root, "outside"));
  mkdirSync(join(base, "4"));
  mkdirSync(join(base, "004"));
  symlinkSync(join(root, "outside"), join(base, "6"));
  mkdirSync(join(base, "2")); // empty: would be pending if it were read
  const scanner = new AdmissionScanner({ rules: admissionRules() });
  const scan = await scanner.scan("m", base, 0, { settled: new Set(["2"]) });
  assert.deepEqual(admissionOf(scan), { "2": "unchecked", "4": "duplicate", "6": "refused" });
  assert.equal(scan.versions.find((v) => v.version === "4")!.path, join(base, "4"));
  assert.deepEqual(scan.pendingPaths, []);
});

test("a directory that disappears and comes back is judged afresh", async (t) => {
  const base = tempDir(t);
  const scanner = new AdmissionScanner({ rules: admissionRules({ quietWindowMs: 100 }) });
  writeCompleteVersion(join(base, "5"));
  await scanner.scan("m", base, 0);
  assert.equal((await scanner.scan("m", base, 100)).versions[0]!.admission, "complete");
  renameSync(join(base, "5"), join(base, ".rejected-5-x"));
  assert.deepEqual((await scanner.scan("m", base, 200)).versions, []);
  writeCompleteVersion(join(base, "5"));
  const again = await scanner.scan("m", base, 300);
  assert.equal(again.versions[0]!.admission, "pending");
  assert.equal(again.versions[0]!.firstSeenAt, 300);
});

test("forget() lets an operator retry re-judge an overdue version", async (t) => {
  const base = tempDir(t);
  const scanner = new AdmissionScanner({ rules: admissionRules({ quietWindowMs: 0, deadlineMs: 10 }) });
  mkdirSync(join(base, "7"));
  await scanner.scan("m", base, 0);
  assert.equal((await scanner.scan("m", base, 10)).versions[0]!.admission, "overdue");
  writeCompleteVersion(join(base, "7"));
  assert.equal((await scanner.scan("m", base, 20)).versions[0]!.admission, "overdue");
  scanner.forget("m", "7");
  assert.equal((await scanner.scan("m", base, 30)).versions[0]!.admission, "complete");
});

test("scan → plan: a newer version still copying holds admission; once settled the newest is the candidate", async (t) => {
  const base = tempDir(t);
  const scanner = new AdmissionScanner({ rules: admissionRules({ quietWindowMs: 0 }) });
  for (const v of ["1", "2", "3"]) writeCompleteVersion(join(base, v));
  mkdirSync(join(base, "4")); // still copying
  rmSync(join(base, "3", "variables", "variables.index"));
  const scan = await scanner.scan("m", base, 0, { settled: new Set(["1"]) });
  assert.deepEqual(admissionOf(scan), { "1": "unchecked", "2": "complete", "3": "pending", "4": "pending" });
  const record = {
    verdicts: { "1": { verdict: "promoted" as const, reason: "", at: 0, by: "daemon" } },
    progress: {},
    lastWritten: { specific: ["1"], labels: { stable: "1" } },
    verified: { version: "1", at: 0 },
  };
  const observed: ObservedState = {
    config: {
      basePath: base,
      platform: "tensorflow",
      policy: { kind: "specific", versions: ["1"] },
      labels: { stable: "1" },
    },
    status: {
      kind: "reachable",
      versions: [{ version: "1", state: "AVAILABLE", error_code: "OK", error_message: "" }],
    },
    now: 0,
  };
  const held = plan(
    desiredState("m", record, diskVersions(scan), [], undefined),
    observed,
    DEFAULT_PLAN_OPTIONS,
  );
  assert.equal(held.steps[0]?.kind === "wait" && held.steps[0].reason, "admission-pending", held.reason);
  rmSync(join(base, "4"), { recursive: true });
  writeCompleteVersion(join(base, "3"));
  const settled = await scanner.scan("m", base, 10, { settled: new Set(["1"]) });
  const admitted = plan(
    desiredState("m", record, diskVersions(settled), [], undefined),
    observed,
    DEFAULT_PLAN_OPTIONS,
  );
  assert.deepEqual(admitted.steps, [{ kind: "admit", model: "m", candidate: "3", skipped: ["2"] }]);
});
