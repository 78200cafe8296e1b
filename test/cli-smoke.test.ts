// `tfs-rollout smoke MODEL VERSION` against the emulator: the daemon's own gate, run now, recording nothing.
import assert from "node:assert/strict";
import { test } from "node:test";
import type { SmokeReport } from "../src/commands/smoke.js";
import { waitFor } from "./helpers/emulator-harness.js";
import { cli, parseJson, snapshotTree, worldFlags } from "./helpers/cli-look.js";
import { killEmulator, startWorld, type World } from "./helpers/rollout-world.js";

async function serving(world: World, version: string): Promise<void> {
  await waitFor(`version ${version} AVAILABLE`, async () =>
    (await world.grpc.getModelStatus("m")).some((s) => s.version === version && s.state === "AVAILABLE"),
  );
}

test("smoke: a good version passes (exit 0) with every check listed; nothing recorded; bad input is exit 2", async (t) => {
  const world = await startWorld();
  t.after(() => world.cleanup());
  await serving(world, "1");
  const before = snapshotTree(world.root);

  const run = await cli(["smoke", "m", "1", "--json", ...worldFlags(world)]);
  assert.equal(run.code, 0, run.err);
  const report = parseJson<SmokeReport>(run);
  assert.equal(report.model, "m");
  assert.equal(report.version, "1");
  assert.equal(report.passed, true);
  assert.equal(report.stable, null);
  assert.ok(report.checks.length > 0);
  assert.ok(report.checks.every((c) => c.passed));
  assert.ok(
    report.checks.some((c) => /serving_default/.test(c.name)),
    JSON.stringify(report.checks),
  );

  const table = await cli(["smoke", "m", "001", ...worldFlags(world)]);
  assert.equal(table.code, 0, table.err);
  assert.match(table.out, /^smoke m 1: PASSED — (\d+)\/\1 checks passed in /);
  assert.match(table.out, /^ {2}pass {2}\S.*serving_default/m);
  assert.equal(snapshotTree(world.root), before, "smoke records nothing: no state dir, no file changed");

  const notLoaded = await cli(["smoke", "m", "7", ...worldFlags(world)]);
  assert.equal(notLoaded.code, 1);
  assert.match(
    notLoaded.err,
    /version 7 of m is not loaded, so it cannot be smoke-tested: TF Serving does not list it/,
  );
  assert.match(notLoaded.err, /hint: a version is loaded while it is a candidate/);
  const bad = await cli(["smoke", "m", "seven", ...worldFlags(world)]);
  assert.equal(bad.code, 2);
  assert.match(bad.err, /VERSION must be a version number/);
  const unknown = await cli(["smoke", "x", "1", ...worldFlags(world)]);
  assert.equal(unknown.code, 2);
  assert.match(unknown.err, /model "x" is not in models\.config/);
  const missing = await cli(["smoke", "m", ...worldFlags(world)]);
  assert.equal(missing.code, 2, "VERSION is required");

  await killEmulator(world);
  const down = await cli(["smoke", "m", "1", ...worldFlags(world)]);
  assert.equal(down.code, 3);
  assert.match(
    down.err,
    new RegExp(`TF Serving at 127\\.0\\.0\\.1:${world.emulator.ports.grpc_port} is unreachable`),
  );
  assert.match(down.err, /--grpc HOST:PORT/);
});

test("smoke: a version answering NaN fails (exit 1) naming the check and the failing exchange", async (t) => {
  const world = await startWorld({ versions: { "1": { nan_outputs: true } } });
  t.after(() => world.cleanup());
  await serving(world, "1");

  const run = await cli(["smoke", "m", "1", "--json", ...worldFlags(world)]);
  assert.equal(run.code, 1, run.err);
  const report = parseJson<SmokeReport>(run);
  assert.equal(report.passed, false);
  const failed = report.checks.filter((c) => !c.passed);
  assert.ok(failed.length > 0);
  assert.match(failed.map((c) => c.detail).join(" "), /non-finite/);
  assert.ok(report.failing_exchange?.request !== undefined);
  assert.ok(report.failing_exchange?.response !== undefined);

  const table = await cli(["smoke", "m", "1", ...worldFlags(world)]);
  assert.equal(table.code, 1);
  assert.match(table.out, /^smoke m 1: FAILED — /);
  assert.match(table.out, /^ {2}FAIL {2}.*non-finite/m);
  assert.match(table.out, /failing exchange:\n {4}request: {2}\{.*\n {4}response: \{/);
});
