import assert from "node:assert/strict";
import {
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  realpathSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { applyQuarantine } from "../src/engine/quarantine.js";
import { tempDir } from "./helpers/version-dir.js";

function setup(t: { after(fn: () => void): void }, specific: string[], stable: string) {
  const root = tempDir(t, "engine-quarantine-");
  const base = join(root, "m");
  for (const v of ["1", "2", "3"]) mkdirSync(join(base, v, "variables"), { recursive: true });
  const config = join(root, "models.config");
  writeFileSync(
    config,
    `model_config_list { config { name: "m" base_path: "${base}" model_platform: "tensorflow"
      model_version_policy { specific { ${specific.map((v) => `versions: ${v}`).join(" ")} } }
      version_labels { key: "stable" value: ${stable} } } }\n`,
  );
  return { root, base, config };
}

const step = (base: string, version: string, action: "rename" | "delete" = "rename") => ({
  kind: "quarantine" as const,
  model: "m",
  version,
  basePath: base,
  dirName: version,
  action,
  newName: `.rejected-${version}-20261122T000000Z`,
  reason: "gate failed",
});

test("rename moves the directory inside base_path, and a resumed rename succeeds", async (t) => {
  const { base, config } = setup(t, ["1"], "1");
  const first = await applyQuarantine(step(base, "3"), config, "stable");
  assert.equal(first.ok, true, first.reason);
  assert.deepEqual(readdirSync(base).sort(), [".rejected-3-20261122T000000Z", "1", "2"]);
  const again = await applyQuarantine(step(base, "3"), config, "stable");
  assert.equal(again.ok, true);
  assert.match(again.reason, /already renamed/);
});

test("never touches the stable version or one still listed in specific", async (t) => {
  const { base, config } = setup(t, ["1", "2"], "1");
  const stable = await applyQuarantine(step(base, "1"), config, "stable");
  assert.equal(stable.ok, false);
  assert.match(stable.reason, /stable names/);
  const listed = await applyQuarantine(step(base, "2", "delete"), config, "stable");
  assert.equal(listed.ok, false);
  assert.match(listed.reason, /still listed/);
  assert.ok(existsSync(join(base, "1")) && existsSync(join(base, "2")));
});

test("delete removes a directory, but only the link of a symlinked version, never its target", async (t) => {
  const { root, base, config } = setup(t, ["1"], "1");
  assert.equal((await applyQuarantine(step(base, "2", "delete"), config, "stable")).ok, true);
  assert.ok(!existsSync(join(base, "2")));
  const outside = join(root, "elsewhere");
  mkdirSync(outside);
  writeFileSync(join(outside, "saved_model.pb"), "x");
  symlinkSync(outside, join(base, "4"));
  assert.equal((await applyQuarantine(step(base, "4", "delete"), config, "stable")).ok, true);
  assert.ok(!existsSync(join(base, "4")));
  assert.ok(existsSync(join(outside, "saved_model.pb")));
});

test("refuses names that are not plain children of base_path", async (t) => {
  const { base, config } = setup(t, ["1"], "1");
  const result = await applyQuarantine({ ...step(base, "3"), newName: "../escaped" }, config, "stable");
  assert.equal(result.ok, false);
  assert.ok(existsSync(join(base, "3")));
});

test("delete of a real version directory never deletes through a symlink inside it (variables/ pointing outside)", async (t) => {
  const { root, base, config } = setup(t, ["1"], "1");
  const outside = join(root, "shared-variables");
  mkdirSync(outside);
  writeFileSync(join(outside, "variables.index"), "kept");
  symlinkSync(outside, join(base, "3", "weights"));
  assert.equal((await applyQuarantine(step(base, "3", "delete"), config, "stable")).ok, true);
  assert.ok(!existsSync(join(base, "3")));
  assert.equal(readFileSync(join(outside, "variables.index"), "utf8"), "kept");
});

test("a symlinked base path: rename and delete act inside the directory it resolves to, the link stays", async (t) => {
  const { root, base, config } = setup(t, ["1"], "1");
  const current = join(root, "current");
  symlinkSync(base, current);
  const renamed = await applyQuarantine(step(current, "3"), config, "stable");
  assert.equal(renamed.ok, true, renamed.reason);
  assert.ok(renamed.reason.includes(`inside ${realpathSync(base)}`), renamed.reason);
  assert.deepEqual(readdirSync(base).sort(), [".rejected-3-20261122T000000Z", "1", "2"]);
  assert.equal((await applyQuarantine(step(current, "2", "delete"), config, "stable")).ok, true);
  assert.deepEqual(readdirSync(base).sort(), [".rejected-3-20261122T000000Z", "1"]);
  assert.ok(lstatSync(current).isSymbolicLink());
});
