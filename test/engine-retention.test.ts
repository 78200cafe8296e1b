import assert from "node:assert/strict";
import { existsSync, mkdirSync, readdirSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import type { ReclaimEntry, Step } from "../src/controller/types.js";
import { applyQuarantine } from "../src/engine/quarantine.js";
import { applyReclaim, treeBytes } from "../src/engine/retention.js";
import { tempDir } from "./helpers/version-dir.js";

/** Base path with versions 1..4 (each 100 + 20 bytes) and a rejected directory of 7 (50 bytes). */
function setup(t: { after(fn: () => void): void }, specific: string[], labels: Record<string, string>) {
  const root = tempDir(t, "engine-retention-");
  const base = join(root, "m");
  for (const v of ["1", "2", "3", "4"]) {
    mkdirSync(join(base, v, "variables"), { recursive: true });
    writeFileSync(join(base, v, "saved_model.pb"), Buffer.alloc(100));
    writeFileSync(join(base, v, "variables", "variables.index"), Buffer.alloc(20));
  }
  mkdirSync(join(base, ".rejected-7-20261101T000000Z"));
  writeFileSync(join(base, ".rejected-7-20261101T000000Z", "saved_model.pb"), Buffer.alloc(50));
  const config = join(root, "models.config");
  const labelText = Object.entries(labels)
    .map(([k, v]) => `version_labels { key: "${k}" value: ${v} }`)
    .join(" ");
  writeFileSync(
    config,
    `model_config_list { config { name: "m" base_path: "${base}" model_platform: "tensorflow"
      model_version_policy { specific { ${specific.map((v) => `versions: ${v}`).join(" ")} } } ${labelText} } }\n`,
  );
  return { root, base, config };
}

const promoted = (v: string): ReclaimEntry => ({ dirName: v, version: v, what: "promoted", why: "old" });
const reclaim = (base: string, entries: ReclaimEntry[]): Extract<Step, { kind: "reclaim" }> => ({
  kind: "reclaim",
  model: "m",
  basePath: base,
  entries,
  reason: "retention",
});

test("deletes the listed directories and reports what it reclaimed and how many bytes", async (t) => {
  const { base, config } = setup(t, ["4"], { stable: "4" });
  const result = await applyReclaim(
    reclaim(base, [
      promoted("1"),
      promoted("2"),
      { dirName: ".rejected-7-20261101T000000Z", version: "7", what: "rejected", why: "old" },
    ]),
    config,
    "stable",
  );
  assert.equal(result.outcome.ok, true, result.outcome.reason);
  assert.deepEqual(readdirSync(base).sort(), ["3", "4"]);
  assert.equal(result.details?.bytes_reclaimed, 290);
  assert.deepEqual(result.details?.reclaimed, [
    { dir: "1", version: "1", what: "promoted", bytes: 120 },
    { dir: "2", version: "2", what: "promoted", bytes: 120 },
    { dir: ".rejected-7-20261101T000000Z", version: "7", what: "rejected", bytes: 50 },
  ]);
  assert.match(result.outcome.reason, /reclaimed 3 directories, 290 bytes/);
  // Repeated (a resumed step): already gone, nothing reclaimed, still ok.
  const again = await applyReclaim(reclaim(base, [promoted("1")]), config, "stable");
  assert.equal(again.outcome.ok, true);
  assert.equal(again.details?.bytes_reclaimed, 0);
});

test("re-checks models.config at deletion time: never stable, a listed version or a labelled one", async (t) => {
  const { base, config } = setup(t, ["3", "4"], { stable: "4", canary: "3" });
  const result = await applyReclaim(
    reclaim(base, [promoted("4"), promoted("3"), promoted("1")]),
    config,
    "stable",
  );
  assert.equal(result.outcome.ok, false);
  assert.match(result.outcome.reason, /kept 4: 4 is what stable names/);
  assert.match(result.outcome.reason, /kept 3: 3 is still listed in specific/);
  assert.deepEqual(readdirSync(base).sort(), [".rejected-7-20261101T000000Z", "2", "3", "4"]);
  const { base: base2, config: config2 } = setup(t, ["4"], { stable: "4", old: "2" });
  void base2;
  const labelled = await applyReclaim(reclaim(base2, [promoted("2")]), config2, "stable");
  assert.match(labelled.outcome.reason, /kept 2: label old names 2/);
});

test("never reaches outside base_path: path names refused, symlinks lose only their link", async (t) => {
  const { root, base, config } = setup(t, ["4"], { stable: "4" });
  const outside = join(root, "elsewhere");
  mkdirSync(outside);
  writeFileSync(join(outside, "saved_model.pb"), Buffer.alloc(10));
  symlinkSync(outside, join(base, "5"));
  const result = await applyReclaim(
    reclaim(base, [
      promoted("5"),
      { dirName: "../elsewhere", version: "6", what: "promoted", why: "x" },
      { dirName: "3", version: "3", what: "rejected", why: "not a rejected name" },
    ]),
    config,
    "stable",
  );
  assert.equal(result.outcome.ok, false);
  assert.match(result.outcome.reason, /kept \.\.\/elsewhere: "\.\.\/elsewhere" is not a plain child/);
  assert.match(result.outcome.reason, /kept 3: not a \.rejected-\* directory/);
  assert.ok(!existsSync(join(base, "5")), "the link is gone");
  assert.ok(existsSync(join(outside, "saved_model.pb")), "its target is untouched");
  assert.ok(existsSync(join(base, "3")));
});

test("an empty reclaim succeeds without touching anything; a missing base path fails", async (t) => {
  const { base, config } = setup(t, ["4"], { stable: "4" });
  assert.deepEqual((await applyReclaim(reclaim(base, []), config, "stable")).outcome, {
    ok: true,
    reason: "retention: nothing to reclaim",
  });
  const missing = await applyReclaim(reclaim(join(base, "nope"), [promoted("1")]), config, "stable");
  assert.equal(missing.outcome.ok, false);
  assert.match(missing.outcome.reason, /cannot resolve base path/);
});

test("treeBytes counts regular files only and does not follow symlinks", async (t) => {
  const { root, base } = setup(t, ["4"], { stable: "4" });
  symlinkSync(join(root, "models.config"), join(base, "1", "link"));
  assert.equal(await treeBytes(join(base, "1")), 120);
  assert.equal(await treeBytes(join(base, "1", "saved_model.pb")), 100);
});

test("quarantine keeps its refusals after sharing them with retention", async (t) => {
  const { base, config } = setup(t, ["4"], { stable: "4" });
  const refused = await applyQuarantine(
    {
      kind: "quarantine",
      model: "m",
      version: "4",
      basePath: base,
      dirName: "4",
      action: "delete",
      newName: "x",
      reason: "r",
    },
    config,
    "stable",
  );
  assert.deepEqual(refused, { ok: false, reason: "refused: 4 is what stable names" });
});
