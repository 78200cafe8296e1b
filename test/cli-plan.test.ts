// `tfs-rollout plan`: the dry run against the emulator, and proof that it touches nothing.
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import type { PlanOutput } from "../src/commands/plan.js";
import { runCli } from "../src/program.js";
import { captureIo } from "./helpers/capture-io.js";
import { waitFor } from "./helpers/emulator-harness.js";
import { cli, parseJson, snapshotTree, worldFlags } from "./helpers/cli-look.js";
import {
  configState,
  daemonArgs,
  daemonYaml,
  MODELS_CONFIG_COMMENT,
  publish,
  startWorld,
  type World,
} from "./helpers/rollout-world.js";

async function servingV1(world: World): Promise<void> {
  await waitFor("version 1 AVAILABLE", async () =>
    (await world.grpc.getModelStatus("m")).some((s) => s.version === "1" && s.state === "AVAILABLE"),
  );
}

function snapshot(world: World): string {
  return [snapshotTree(world.configFile.replace(/models\.config$/, "")), snapshotTree(world.stateDir)].join(
    "\n--\n",
  );
}

test("plan: adoption dry run on a fresh model: steps, exact diff; models.config, version dirs and state untouched", async (t) => {
  const world = await startWorld();
  t.after(() => world.cleanup());
  await servingV1(world);
  const before = snapshot(world);
  assert.match(before, /\n--\nmissing$/, "no state dir yet");

  const run = await cli(["plan", "--json", ...worldFlags(world)]);
  assert.equal(run.code, 0, run.err);
  const out = parseJson<PlanOutput>(run);
  const m = out.models[0];
  assert.deepEqual(
    m?.steps.map((s) => s.kind),
    ["adopt", "verify"],
  );
  assert.equal(m?.end.kind, "converged");
  assert.equal(m?.summary.adopted, true);
  assert.deepEqual(m?.after, { specific: ["1"], labels: { stable: "1" } });
  assert.match(
    out.config_diff,
    /^--- .*models\.config\n\+\+\+ .*models\.config \(after the planned steps\)\n@@ /,
  );
  assert.match(out.config_diff, /^\+ {4}model_version_policy \{$/m);
  assert.match(out.config_diff, /^\+ {8}versions: 1$/m);
  assert.match(out.config_diff, /^\+ {6}key: "stable"$/m);
  assert.match(out.note, /dry run: nothing was changed/);

  const table = await cli(["plan", ...worldFlags(world)]);
  assert.equal(table.code, 0, table.err);
  assert.match(table.out, /^ {2}1 +adopt /m);
  assert.match(table.out, /would: adopt the model/);
  assert.match(table.out, /models\.config diff:\n--- /);

  assert.equal(snapshot(world), before, "plan changed nothing: models.config, version dirs, state dir");
  assert.equal(configState(world).specific.length, 0, "still latest");
});

test("plan: a new version is admitted (by mtime), loaded, gated, promoted; byte-identical files before and after", async (t) => {
  const world = await startWorld();
  t.after(() => world.cleanup());
  await servingV1(world);
  const io = captureIo();
  assert.equal(await runCli(daemonArgs(world, ["--once"]), io), 0, io.err);
  assert.equal(configState(world).labels.stable, "1");
  publish(world.base, "2");
  publish(world.base, "3");
  const quiet = Date.now();
  await waitFor("quiet window (100 ms) over", () => Date.now() - quiet > 150);
  const before = snapshot(world);

  const run = await cli(["plan", "m", "--json", ...worldFlags(world)]);
  assert.equal(run.code, 0, run.err);
  const out = parseJson<PlanOutput>(run);
  const m = out.models[0];
  assert.deepEqual(
    m?.steps.map((s) => s.kind),
    ["admit", "load", "gate", "promote", "verify"],
  );
  assert.equal(m?.steps[0]?.version, "3");
  assert.deepEqual(m?.summary.admitted, ["3"]);
  assert.deepEqual(m?.summary.skipped, ["2"]);
  assert.deepEqual(m?.summary.promoted, ["3"]);
  assert.deepEqual(m?.before, { specific: ["1"], labels: { stable: "1" } });
  assert.deepEqual(m?.after, { specific: ["1", "3"], labels: { stable: "3" } });
  const admission = m?.admission.find((a) => a.version === "3");
  assert.equal(admission?.admission, "complete");
  assert.match(admission?.detail ?? "", /quiet for .* by mtime/);
  assert.match(out.config_diff, /^ {9}versions: 1\n\+ {8}versions: 3$/m);
  assert.match(out.config_diff, /^- {6}value: 1\n\+ {6}value: 3$/m);
  assert.ok(!out.config_diff.includes(MODELS_CONFIG_COMMENT), "only the changed region is shown");

  const table = await cli(["plan", "m", ...worldFlags(world)]);
  assert.match(table.out, /admission: 3 complete \(complete, quiet for .* by mtime/);
  assert.match(table.out, /would: admit 3; skip 2; load 3; gate 3; promote 3/);
  assert.equal(snapshot(world), before, "plan changed nothing");
});

test("plan: versions still being copied (quiet window, marker file) make it wait and say why; limits and usage", async (t) => {
  const world = await startWorld();
  t.after(() => world.cleanup());
  await servingV1(world);
  const io = captureIo();
  assert.equal(await runCli(daemonArgs(world, ["--once"]), io), 0, io.err);
  publish(world.base, "2");

  const slow = join(world.root, "slow.yaml");
  writeFileSync(slow, daemonYaml().replace("quiet_window: 100ms", "quiet_window: 10m"));
  const waiting = parseJson<PlanOutput>(
    await cli(["plan", "--json", ...worldFlags(world), `--config=${slow}`]),
  );
  assert.equal(waiting.models[0]?.end.kind, "wait");
  assert.match(waiting.models[0]?.end.reason ?? "", /2 still being copied/);
  assert.match(waiting.models[0]?.admission[0]?.detail ?? "", /quiet window 10m/);
  assert.equal(waiting.config_diff, "");

  const marker = join(world.root, "marker.yaml");
  writeFileSync(marker, daemonYaml().replace("quiet_window: 100ms", "marker_file: _DONE"));
  const noMarker = parseJson<PlanOutput>(
    await cli(["plan", "--json", ...worldFlags(world), `--config=${marker}`]),
  );
  assert.match(noMarker.models[0]?.admission[0]?.detail ?? "", /waiting for marker _DONE/);
  writeFileSync(join(world.base, "2", "_DONE"), "");
  const withMarker = parseJson<PlanOutput>(
    await cli(["plan", "--json", ...worldFlags(world), `--config=${marker}`]),
  );
  assert.equal(withMarker.models[0]?.steps[0]?.kind, "admit");

  const limited = await cli([
    "plan",
    "--max-steps",
    "1",
    "--json",
    ...worldFlags(world),
    `--config=${marker}`,
  ]);
  assert.equal(limited.code, 1, "not converged within --max-steps");
  assert.equal(parseJson<PlanOutput>(limited).models[0]?.end.kind, "limit");
  const bad = await cli(["plan", "--max-steps", "zero", ...worldFlags(world)]);
  assert.equal(bad.code, 2);
  assert.match(bad.err, /--max-steps must be a whole number/);
  const unknown = await cli(["plan", "nosuch", ...worldFlags(world)]);
  assert.equal(unknown.code, 2);
  assert.match(unknown.err, /unknown model "nosuch"[\s\S]*known models: m/);
});

test("plan: every managed model in one diff; MODEL narrows it to one", async (t) => {
  const world = await startWorld({ models: ["m", "n"] });
  t.after(() => world.cleanup());
  await servingV1(world);
  await waitFor("n serving", async () =>
    (await world.grpc.getModelStatus("n")).some((s) => s.state === "AVAILABLE"),
  );
  const before = snapshot(world);
  const all = parseJson<PlanOutput>(await cli(["plan", "--json", ...worldFlags(world)]));
  assert.deepEqual(
    all.models.map((m) => [m.model, m.steps[0]?.kind]),
    [
      ["m", "adopt"],
      ["n", "adopt"],
    ],
  );
  assert.equal(all.config_diff.match(/^\+ {6}key: "stable"$/gm)?.length, 2, all.config_diff);
  const one = parseJson<PlanOutput>(await cli(["plan", "n", "--json", ...worldFlags(world)]));
  assert.deepEqual(
    one.models.map((m) => m.model),
    ["n"],
  );
  assert.equal(one.config_diff.match(/^\+ {6}key: "stable"$/gm)?.length, 1);
  assert.equal(snapshot(world), before);
});
