import assert from "node:assert/strict";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, test } from "node:test";
import { desiredVersions, pollAll } from "../src/emulator/version-source.js";
import type { ModelConfigObject } from "../src/modelconfig/validate.js";
import { tempDir } from "./helpers/emulator-harness.js";

const tmp = tempDir();
after(() => tmp.cleanup());

function base(name: string, children: string[]): string {
  const dir = join(tmp.dir, name);
  for (const child of children) mkdirSync(join(dir, child), { recursive: true });
  mkdirSync(dir, { recursive: true });
  return dir;
}

function collect(): { warnings: string[]; warn(m: string): void } {
  const warnings: string[] = [];
  return { warnings, warn: (m) => warnings.push(m) };
}

const model = (basePath: string, policy?: ModelConfigObject["model_version_policy"]): ModelConfigObject => ({
  name: "m",
  base_path: basePath,
  model_platform: "tensorflow",
  ...(policy ? { model_version_policy: policy } : {}),
});

test("facts §4: names parse like absl::SimpleAtoi (zeros, +, whitespace); non-integers are ignored", async () => {
  const dir = base("atoi", [
    "00000123",
    "+7",
    " 9 ",
    "1.0",
    "v1",
    ".123",
    "123.tmp",
    "0x10",
    "99999999999999999999",
  ]);
  const log = collect();
  const desired = await desiredVersions(model(dir, { all: {} }), log);
  assert.deepEqual(
    [...desired.entries()].sort(),
    [
      ["123", join(dir, "00000123")],
      ["7", join(dir, "+7")],
      ["9", join(dir, " 9 ")],
    ].sort(),
  );
});

test("facts §4: a regular file with a numeric name counts as a version too", async () => {
  const dir = base("file-version", ["1"]);
  writeFileSync(join(dir, "2"), "not a dir");
  const desired = await desiredVersions(model(dir), collect());
  assert.deepEqual([...desired.keys()], ["2"]);
});

test("facts §4: duplicates warn and the later name in sorted order wins (5 over 005)", async () => {
  const dir = base("dupes", ["005", "5"]);
  const log = collect();
  const desired = await desiredVersions(model(dir), log);
  assert.equal(desired.get("5"), join(dir, "5"));
  assert.match(
    log.warnings.join("\n"),
    /Duplicate version directories detected. Version 5 will be loaded from .*\/5, .*\/005 will be ignored\./,
  );
});

test("facts §4: latest{n} takes the n highest (0 counts as 1); default is latest 1", async () => {
  const dir = base("latest", ["1", "2", "10", "3"]);
  assert.deepEqual([...(await desiredVersions(model(dir), collect())).keys()], ["10"]);
  assert.deepEqual(
    [...(await desiredVersions(model(dir, { latest: { num_versions: 2 } }), collect())).keys()],
    ["3", "10"],
  );
  assert.deepEqual(
    [...(await desiredVersions(model(dir, { latest: { num_versions: 0 } }), collect())).keys()],
    ["10"],
  );
});

test("facts §4: specific keeps the listed versions that exist and warns about the others", async () => {
  const dir = base("specific", ["00000123", "124"]);
  const log = collect();
  const desired = await desiredVersions(model(dir, { specific: { versions: ["123", "125"] } }), log);
  assert.deepEqual([...desired.entries()], [["123", join(dir, "00000123")]]);
  assert.match(
    log.warnings[0] ?? "",
    /Version 125 of servable m, which was requested to be served as a 'specific' version/,
  );
});

test("facts §4: an empty or all-missing specific list asks for nothing (the model unloads)", async () => {
  const dir = base("specific-empty", ["1", "2"]);
  const log = collect();
  assert.equal((await desiredVersions(model(dir, { specific: {} }), log)).size, 0);
  assert.match(log.warnings.join("\n"), /No specific versions requested for servable m\./);
  assert.equal((await desiredVersions(model(dir, { specific: { versions: ["7"] } }), collect())).size, 0);
});

test("facts §4: no numeric children warns and desires nothing", async () => {
  const dir = base("none", ["export", "1.tmp"]);
  const log = collect();
  assert.equal((await desiredVersions(model(dir), log)).size, 0);
  assert.match(
    log.warnings[0] ?? "",
    /No versions of servable m found under base path .*Did you forget to name your leaf directory as a number/,
  );
});

test("facts §4: one missing base path fails the whole poll cycle with INVALID_ARGUMENT", async () => {
  const good = base("good", ["1"]);
  const missing = join(tmp.dir, "does-not-exist");
  await assert.rejects(
    pollAll(
      [
        { ...model(good), name: "a" },
        { ...model(missing), name: "b" },
      ],
      collect(),
    ),
    (e: Error & { code?: string }) =>
      e.code === "INVALID_ARGUMENT" &&
      e.message.startsWith(`Could not find base path ${missing} for servable b with error`),
  );
  const ok = await pollAll([{ ...model(good), name: "a" }], collect());
  assert.deepEqual([...(ok.get("a")?.keys() ?? [])], ["1"]);
});
