// The operator CLI SIGKILLed mid-rollback (issue 9's crash matrix): `tfs-rollout rollback m --yes` kills itself
// through the test-only crash hook right after journaling each step of the rollback; the invariants hold at the
// kill, and a daemon started afterwards finishes the rollback: stable back on 1, 2 out of service, nothing lost.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { openLocalState } from "../../src/state/local-store.js";
import { REPO, waitFor } from "../helpers/emulator-harness.js";
import { operatorArgs, rolledOut } from "../helpers/operator-world.js";
import { configState, spawnDaemon, stableVersion, startWorld } from "../helpers/rollout-world.js";
import { tally } from "./tally.js";
import { checkWorld, guardWorld } from "./world-invariants.js";

const TIMEOUT = 30_000;
const KILL_POINTS = [
  "promote:begin",
  "promote:done",
  "rollback-config:begin",
  "rollback-config:done",
  "quarantine:begin",
];

for (const crashAt of KILL_POINTS) {
  test(`the rollback CLI killed at ${crashAt}: a daemon finishes the rollback, nothing lost`, async (t) => {
    const world = await startWorld();
    t.after(() => world.cleanup());
    await rolledOut(world, ["2"]);
    const guard = guardWorld(world);
    const cli = spawn(
      process.execPath,
      [
        "--import",
        "tsx",
        join(REPO, "src/cli.ts"),
        "rollback",
        "m",
        "--yes",
        "--json",
        ...operatorArgs(world),
      ],
      {
        cwd: REPO,
        stdio: ["ignore", "pipe", "pipe"],
        env: { ...process.env, TFS_ROLLOUT_TEST_CRASH_AT: crashAt },
      },
    );
    let output = "";
    cli.stdout.on("data", (d: Buffer) => (output += d.toString()));
    cli.stderr.on("data", (d: Buffer) => (output += d.toString()));
    const signal = await new Promise<NodeJS.Signals | null>((done) => cli.on("exit", (_c, s) => done(s)));
    assert.equal(signal, "SIGKILL", `the CLI reached ${crashAt}\n${output}`);
    const scenario = `rollback CLI killed at ${crashAt}`;
    assert.deepEqual(await checkWorld(guard, { scenario, rejectable: ["2"] }), { violations: [], lost: [] });
    const daemon = spawnDaemon(world);
    t.after(() => void (daemon.child.exitCode === null && daemon.child.kill("SIGKILL")));
    const state = await openLocalState(world.stateDir);
    await waitFor(
      "rolled back to 1, 2 out of specific, quarantined and rejected, the journal settled",
      async () =>
        daemon.events().some((e) => e.msg === "tfs-rollout daemon starting") &&
        (await stableVersion(world)) === "1" &&
        !configState(world).specific.includes("2") &&
        !existsSync(join(world.base, "2")) &&
        (await state.verdicts.get("m", "2"))?.verdict === "rejected" &&
        (await state.journal.unfinished("m")).length === 0,
      TIMEOUT,
    ).catch((error: unknown) => {
      throw new Error(`${String(error)}\ndaemon log:\n${daemon.stdout()}`);
    });
    daemon.child.kill("SIGTERM");
    assert.equal(await daemon.exited, 0);
    const result = await checkWorld(guard, {
      scenario: `${scenario}, then a daemon`,
      rejectable: ["2"],
      settled: true,
    });
    assert.deepEqual(result, { violations: [], lost: [] });
    tally("kill_points", scenario);
  });
}
