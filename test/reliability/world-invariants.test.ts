// The invariant checker itself (world-invariants.ts) must see each kind of breakage, or a clean table means
// nothing: a real emulator world without a daemon, broken by hand in one way per case. Not tallied.
import assert from "node:assert/strict";
import { renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { waitFor } from "../helpers/emulator-harness.js";
import { startWorld, type World } from "../helpers/rollout-world.js";
import { checkWorld, guardWorld } from "./world-invariants.js";

async function world(t: { after(fn: () => unknown): void }): Promise<World> {
  const w = await startWorld();
  t.after(() => w.cleanup());
  await waitFor("version 1 AVAILABLE", async () =>
    (await w.grpc.getModelStatus("m")).some((s) => s.version === "1" && s.state === "AVAILABLE"),
  );
  return w;
}

const check = (guard: ReturnType<typeof guardWorld>) =>
  checkWorld(guard, { scenario: "self-test", untallied: true, settled: true });

test("a world nobody touched passes; a touched bystander, a lost version and a broken config do not", async (t) => {
  const w = await world(t);
  const guard = guardWorld(w);
  assert.deepEqual(await check(guard), { violations: [], lost: [] });

  writeFileSync(join(w.root, "bystander", "notes.txt"), "changed");
  writeFileSync(join(w.root, "models", "stray"), "");
  const touched = await check(guard);
  assert.ok(touched.violations.some((v) => v.startsWith("bystander/notes.txt was changed")));
  assert.ok(touched.violations.some((v) => v.startsWith("models/stray was created")));

  renameSync(join(w.base, "1"), join(w.base, ".rejected-1-x"));
  assert.deepEqual(
    (await check(guard)).lost,
    ["m/1 lost or changed files"],
    "a guarded version renamed away",
  );
  assert.deepEqual(
    (await checkWorld(guard, { scenario: "self-test", untallied: true, rejectable: ["1"] })).lost,
    [],
    "unless it was a rejectable candidate, quarantined whole",
  );
  renameSync(join(w.base, ".rejected-1-x"), join(w.base, "1"));
  writeFileSync(join(w.base, "1", "saved_model.pb"), "truncated");
  assert.deepEqual((await check(guard)).lost, ["m/1 lost or changed files"], "a guarded file changed");

  writeFileSync(w.configFile, "model_config_list { config { name: ");
  assert.ok((await check(guard)).violations.some((v) => v.startsWith("models.config does not parse")));
});

test("a stable label on a version that is not AVAILABLE, or not on disk, is a violation", async (t) => {
  const w = await world(t);
  const guard = guardWorld(w);
  const text = `# production models: edited by tfs-rollout, keep this comment
model_config_list {
  config {
    name: "m"  # the model
    base_path: "${w.base}"
    model_platform: "tensorflow"
    model_version_policy { specific { versions: 1 } }
    version_labels { key: "stable" value: 9 }
  }
}
`;
  writeFileSync(w.configFile, text);
  const { violations } = await check(guard);
  assert.ok(violations.includes("m: label stable names 9, which is not listed"), violations.join("\n"));
  assert.ok(violations.includes(`m: stable 9 has no directory in ${w.base}`));
  assert.ok(violations.some((v) => v.startsWith("m: stable 9 does not answer")));
  rmSync(join(w.base, "1"), { recursive: true });
  assert.deepEqual((await check(guard)).lost, ["m/1 lost or changed files"]);
});
