// Symlinks against a real daemon (issue 9): a version directory swapped for a symlink while it loads, a base path
// that is itself a symlink (`models/m -> ../releases/a`, as `current -> releases/x` deployments do), and that link
// re-pointed mid-run.
//
// Rules (README): a version that resolves outside base_path is never promoted, and quarantine moves or deletes the
// link itself, never what it points to. A symlinked base path is followed like TF Serving follows it; "inside
// base_path" then means inside the directory it resolves to at that moment, and a re-pointed link is followed too
// (the next rescan lists the new target; the old one is never touched again).
import assert from "node:assert/strict";
import {
  lstatSync,
  mkdirSync,
  readdirSync,
  readlinkSync,
  renameSync,
  symlinkSync,
  type Stats,
} from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { openLocalState } from "../../src/state/local-store.js";
import { publish, stableVersion, tempRoot, type World } from "../helpers/rollout-world.js";
import { startFaultWorld, verdictOf, type FaultWorld } from "./fault-world.js";
import { tally } from "./tally.js";
import { diffTrees, snapshotTree } from "./tree.js";

/** The one `.rejected-<version>-…` entry of `dir`, lstat'ed (a quarantined link stays a link). */
function quarantined(dir: string, version: string): { name: string; stats: Stats } {
  const names = readdirSync(dir).filter((n) => n.startsWith(`.rejected-${version}-`));
  assert.equal(names.length, 1, `one quarantined ${version} in ${dir}: ${readdirSync(dir).join(", ")}`);
  return { name: names[0]!, stats: lstatSync(join(dir, names[0]!)) };
}

for (const action of ["rename", "delete"] as const) {
  test(`a version swapped for a symlink out of base_path while it loads is never promoted; rollback ${action} touches only the link`, async (t) => {
    const outside = tempRoot();
    t.after(() => outside.cleanup());
    const fw = await startFaultWorld(t, (yaml) => `${yaml}\nrollback:\n  action: ${action}\n`);
    const { world } = fw;
    publish(world.base, "2", { load_delay_ms: 1500 });
    await fw.stepLogged("load", "2", "ok");
    // Admitted and loading: the real directory moves out, a symlink to it takes its place.
    renameSync(join(world.base, "2"), join(outside.dir, "2"));
    symlinkSync(join(outside.dir, "2"), join(world.base, "2"));
    const before = snapshotTree(outside.dir);
    await verdictOf(fw, "2", ["rejected"]);
    assert.equal(await stableVersion(world), "1");
    assert.ok(
      !fw.daemon.events().some((e) => e.step === "promote" && e.version === "2"),
      "no promote step for 2",
    );
    const verdict = await (await openLocalState(world.stateDir)).verdicts.get("m", "2");
    assert.match(verdict?.reason ?? "", /no longer admissible/);
    if (action === "rename") {
      const { name, stats } = quarantined(world.base, "2");
      assert.ok(stats.isSymbolicLink(), `${name} is the link itself`);
      assert.equal(readlinkSync(join(world.base, name)), join(outside.dir, "2"));
    } else assert.ok(!readdirSync(world.base).some((n) => n === "2" || n.startsWith(".rejected-2-")));
    assert.deepEqual(diffTrees(before, snapshotTree(outside.dir)), [], "the link's target is untouched");
    await fw.survived(`a version swapped for a symlink out of base_path mid-rollout (${action})`, ["2"]);
    tally("bad_inputs", `version directory replaced by an escaping symlink mid-rollout (${action})`);
  });
}

test("a version swapped for a symlink inside base_path while it loads is followed; failing its gate moves only the link aside", async (t) => {
  const fw = await startFaultWorld(t);
  const { world } = fw;
  publish(world.base, "2", { load_delay_ms: 1500, nan_outputs: true });
  await fw.stepLogged("load", "2", "ok");
  renameSync(join(world.base, "2"), join(world.base, ".moved-2"));
  symlinkSync(".moved-2", join(world.base, "2"));
  const target = snapshotTree(join(world.base, ".moved-2"));
  await verdictOf(fw, "2", ["rejected"]);
  // Judged like any candidate (its NaN gate; or, when TF Serving's poll caught the instant between the move and
  // the link, its load): either way not promoted.
  assert.equal(await stableVersion(world), "1");
  t.diagnostic(`rejected: ${(await (await openLocalState(world.stateDir)).verdicts.get("m", "2"))?.reason}`);
  const { name, stats } = quarantined(world.base, "2");
  assert.ok(stats.isSymbolicLink(), `${name} is the link itself`);
  assert.deepEqual(
    diffTrees(target, snapshotTree(join(world.base, ".moved-2"))),
    [],
    "its target is untouched",
  );
  await fw.survived("a version swapped for a symlink inside base_path mid-rollout", ["2"]);
  tally("bad_inputs", "version directory replaced by a symlink inside base_path mid-rollout");
});

/**
 * A fault world whose base path `models/m` is a symlink to `releases/a`, made (and `prepare` run) in the config
 * hook, which runs before the guard's snapshot and the daemon's start.
 */
async function symlinkedWorld(
  t: { after(fn: () => unknown): void },
  options: { yaml?: (text: string) => string; prepare?: (releases: string) => void } = {},
): Promise<{ fw: FaultWorld; releases: string }> {
  let releases = "";
  const fw = await startFaultWorld(t, (text, world: World) => {
    releases = join(world.root, "releases");
    mkdirSync(releases);
    renameSync(world.base, join(releases, "a"));
    symlinkSync(join("..", "releases", "a"), world.base);
    options.prepare?.(releases);
    return options.yaml?.(text) ?? text;
  });
  return { fw, releases };
}

test("a symlinked base path is followed: watch events through the link, promotion, quarantine inside the resolved directory", async (t) => {
  // No rescan within the test: only the watch (through the link) can report the new versions.
  const { fw, releases } = await symlinkedWorld(t, {
    yaml: (yaml) => yaml.replace(/rescan_cron: .*/, 'rescan_cron: "0 0 0 1 1 *"'),
  });
  const { world } = fw;
  publish(world.base, "2");
  fw.guard.protect("m", "2");
  await fw.waitStable("2", "published through the symlinked base path");
  publish(world.base, "3", { nan_outputs: true });
  fw.guard.protect("m", "3");
  await verdictOf(fw, "3", ["rejected"]);
  const { stats } = quarantined(join(releases, "a"), "3");
  assert.ok(stats.isDirectory(), "the rejected directory was renamed inside releases/a");
  assert.equal(readlinkSync(world.base), join("..", "releases", "a"), "the base path is still the link");
  await fw.survived("a symlinked base path", ["3"]);
  tally("bad_inputs", "a symlinked base path (watch, promotion, quarantine through it)");
});

test("a base path symlink re-pointed mid-run is followed: the new target's version is promoted, the old target is never touched", async (t) => {
  const { fw, releases } = await symlinkedWorld(t, {
    prepare: (dir) => {
      mkdirSync(join(dir, "b"));
      publish(join(dir, "b"), "1");
      publish(join(dir, "b"), "2");
    },
  });
  const { world } = fw;
  const oldTarget = snapshotTree(join(releases, "a"));
  // Re-pointed atomically (a new link renamed over the old one), as deployment tools do.
  symlinkSync(join("..", "releases", "b"), join(world.root, "models", ".m-next"));
  renameSync(join(world.root, "models", ".m-next"), world.base);
  fw.guard.accept("models/m");
  fw.guard.protect("m", "2");
  await fw.waitStable("2", "after the base path link moved to releases/b");
  assert.deepEqual(diffTrees(oldTarget, snapshotTree(join(releases, "a"))), [], "releases/a untouched");
  await fw.survived("a base path symlink re-pointed mid-run");
  tally("bad_inputs", "a base path symlink re-pointed mid-run");
});
