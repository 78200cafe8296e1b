// Kill points, with issue 9's full invariants after every kill: a real daemon SIGKILLs itself through the test-only
// crash hook (TFS_ROLLOUT_TEST_CRASH_AT, src/engine/test-crash-hook.ts) right after journaling each step of a
// rollout and of a rollback in turn (`npm run test:crash` runs this file and cli-kill.test.ts alone), and a process writing
// models.config SIGKILLs itself after each step of the atomic write. Each survived kill is tallied.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { pathToFileURL } from "node:url";
import { ATOMIC_WRITE_STEPS } from "../../src/modelconfig/atomic-write.js";
import { parseModelServerConfigBytes } from "../../src/modelconfig/load.js";
import { openLocalState, type LocalState } from "../../src/state/local-store.js";
import { REPO, waitFor } from "../helpers/emulator-harness.js";
import {
  daemonYaml,
  publish,
  spawnDaemon,
  stableVersion,
  startWorld,
  tempRoot,
  type DaemonProcess,
  type World,
} from "../helpers/rollout-world.js";
import { tally } from "./tally.js";
import { checkWorld, guardWorld, type Guard } from "./world-invariants.js";

const TIMEOUT = 30_000;

interface Stage {
  crashAt: string;
  then?(world: World, guard: Guard): Promise<void>;
}

const publishGood = async (world: World, guard: Guard) => {
  await waitFor("adopted", async () => (await stableVersion(world)) === "1", TIMEOUT);
  publish(world.base, "2", { load_delay_ms: 800 });
  guard.protect("m", "2");
};
const publishBad = async (world: World) => {
  await waitFor("stable → 2", async () => (await stableVersion(world)) === "2", TIMEOUT);
  publish(world.base, "3", { nan_outputs: true });
};

interface ChainOptions {
  /** Extra daemon config lines (rollback.action, retention, ...). */
  yaml?: string;
  /** Versions that may end quarantined or deleted by a configured rule. */
  rejectable?: string[];
  /** The final daemon's end state (default: 2 stable, 3 rejected). */
  converged?(world: World, state: LocalState): Promise<boolean>;
}

const goodThenBad = async (world: World, state: LocalState) =>
  (await stableVersion(world)) === "2" && (await state.verdicts.get("m", "3"))?.verdict === "rejected";

async function runChain(
  t: { after(fn: () => unknown): void },
  name: string,
  stages: Stage[],
  options: ChainOptions = {},
): Promise<void> {
  const rejectable = options.rejectable ?? ["3"];
  const converged = options.converged ?? goodThenBad;
  const world = await startWorld();
  t.after(() => world.cleanup());
  if (options.yaml !== undefined) writeFileSync(world.daemonConfig, daemonYaml(options.yaml));
  await waitFor("version 1 AVAILABLE", async () =>
    (await world.grpc.getModelStatus("m")).some((s) => s.version === "1" && s.state === "AVAILABLE"),
  );
  const guard = guardWorld(world);
  const daemons: DaemonProcess[] = [];
  t.after(() => {
    for (const d of daemons)
      if (d.child.exitCode === null && d.child.signalCode === null) d.child.kill("SIGKILL");
  });
  for (const stage of stages) {
    const daemon = spawnDaemon(world, [], { TFS_ROLLOUT_TEST_CRASH_AT: stage.crashAt });
    daemons.push(daemon);
    await stage.then?.(world, guard);
    await waitFor(`killed at ${stage.crashAt}`, () => daemon.child.signalCode === "SIGKILL", TIMEOUT).catch(
      (error: unknown) => {
        throw new Error(`${String(error)}\ndaemon log:\n${daemon.stdout()}`);
      },
    );
    const scenario = `${name}: kill at ${stage.crashAt}`;
    const result = await checkWorld(guard, { scenario, rejectable });
    assert.deepEqual(result, { violations: [], lost: [] }, scenario);
    tally("kill_points", scenario);
  }
  const last = spawnDaemon(world);
  daemons.push(last);
  const state = await openLocalState(world.stateDir);
  await waitFor(
    "converged, journal settled",
    async () => (await converged(world, state)) && (await state.journal.unfinished("m")).length === 0,
    TIMEOUT,
  ).catch((error: unknown) => {
    throw new Error(`${String(error)}\ndaemon log:\n${last.stdout()}`);
  });
  last.child.kill("SIGTERM");
  assert.equal(await last.exited, 0);
  const result = await checkWorld(guard, {
    scenario: `${name}: converged`,
    rejectable,
    settled: true,
  });
  assert.deepEqual(result, { violations: [], lost: [] });
}

test("SIGKILL after each journal begin, then convergence: every invariant holds, nothing lost", async (t) => {
  await runChain(t, "begin chain", [
    { crashAt: "adopt:begin" },
    { crashAt: "load:begin", then: publishGood },
    { crashAt: "await-available:begin" },
    { crashAt: "gate:begin" },
    { crashAt: "promote:begin" },
    { crashAt: "verify:begin" },
    { crashAt: "rollback-config:begin", then: publishBad },
    { crashAt: "quarantine:begin" },
  ]);
});

test("SIGKILL after each journal end, then convergence: every invariant holds, nothing lost", async (t) => {
  await runChain(t, "done chain", [
    { crashAt: "adopt:done" },
    { crashAt: "admit:done", then: publishGood },
    { crashAt: "load:done" },
    { crashAt: "promote:done" },
    { crashAt: "verify:done" },
    { crashAt: "gate:done", then: publishBad },
    { crashAt: "rollback-config:done" },
    { crashAt: "quarantine:done" },
  ]);
});

test("SIGKILL around the rollback's delete (rollback.action: delete): the bad version goes, nothing else", async (t) => {
  await runChain(
    t,
    "delete chain",
    [
      { crashAt: "load:begin", then: publishGood },
      { crashAt: "quarantine:begin", then: publishBad },
      { crashAt: "quarantine:done" },
    ],
    {
      yaml: "rollback:\n  action: delete",
      converged: async (world, state) =>
        (await goodThenBad(world, state)) && !existsSync(join(world.base, "3")),
    },
  );
});

test("SIGKILL around retention's reclaim: only the superseded promoted version 2 is deleted", async (t) => {
  const world = await startWorld();
  t.after(() => world.cleanup());
  const guard = guardWorld(world);
  const daemons: DaemonProcess[] = [];
  t.after(() => {
    for (const d of daemons)
      if (d.child.exitCode === null && d.child.signalCode === null) d.child.kill("SIGKILL");
  });
  const first = spawnDaemon(world);
  daemons.push(first);
  await publishGood(world, guard);
  await waitFor("stable → 2", async () => (await stableVersion(world)) === "2", TIMEOUT);
  for (const version of ["3", "4"]) {
    publish(world.base, version);
    guard.protect("m", version);
    await waitFor(`stable → ${version}`, async () => (await stableVersion(world)) === version, TIMEOUT);
  }
  first.child.kill("SIGTERM");
  assert.equal(await first.exited, 0);
  writeFileSync(
    world.daemonConfig,
    daemonYaml(
      'retention:\n  enabled: true\n  keep_promoted: 1\n  keep_rejected_for: 1ms\n  cron: "* * * * * *"',
    ),
  );
  guard.accept("daemon.yaml");
  for (const crashAt of ["reclaim:begin", "reclaim:done"]) {
    const daemon = spawnDaemon(world, [], { TFS_ROLLOUT_TEST_CRASH_AT: crashAt });
    daemons.push(daemon);
    await waitFor(`killed at ${crashAt}`, () => daemon.child.signalCode === "SIGKILL", TIMEOUT).catch(
      (error: unknown) => {
        throw new Error(`${String(error)}\ndaemon log:\n${daemon.stdout()}`);
      },
    );
    const scenario = `retention chain: kill at ${crashAt}`;
    assert.deepEqual(await checkWorld(guard, { scenario, rejectable: ["2"] }), { violations: [], lost: [] });
    tally("kill_points", scenario);
  }
  const last = spawnDaemon(world);
  daemons.push(last);
  const state = await openLocalState(world.stateDir);
  await waitFor(
    "2 reclaimed, 4 stable, journal settled",
    async () =>
      !existsSync(join(world.base, "2")) &&
      (await stableVersion(world)) === "4" &&
      (await state.journal.unfinished("m")).length === 0,
    TIMEOUT,
  ).catch((error: unknown) => {
    throw new Error(`${String(error)}\ndaemon log:\n${last.stdout()}`);
  });
  last.child.kill("SIGTERM");
  assert.equal(await last.exited, 0);
  const result = await checkWorld(guard, {
    scenario: "retention chain: converged",
    rejectable: ["2"],
    settled: true,
  });
  assert.deepEqual(result, { violations: [], lost: [] });
});

const OLD =
  'model_config_list {\n  config { name: "m" base_path: "/models/m" model_platform: "tensorflow" }\n}\n';
const NEW = OLD.replace("}\n}", "  model_version_policy { specific { versions: 2 } } }\n}");

test("SIGKILL after each step of the atomic models.config write: the file is the old or the new one, whole", async (t) => {
  const temp = tempRoot();
  t.after(() => temp.cleanup());
  const moduleUrl = pathToFileURL(join(REPO, "src/modelconfig/atomic-write.ts")).href;
  for (const step of ATOMIC_WRITE_STEPS) {
    const target = join(temp.dir, "models.config");
    writeFileSync(target, OLD);
    const code = `const { writeFileAtomic } = await import(${JSON.stringify(moduleUrl)});
await writeFileAtomic(process.argv[1], process.argv[2], {
  onStep: (s) => { if (s === process.argv[3]) process.kill(process.pid, "SIGKILL"); },
});`;
    const child = spawn(
      process.execPath,
      ["--import", "tsx", "--input-type=module", "-e", code, target, NEW, step],
      {
        cwd: REPO,
        stdio: "ignore",
      },
    );
    const signal = await new Promise<NodeJS.Signals | null>((done) => child.on("exit", (_c, s) => done(s)));
    assert.equal(signal, "SIGKILL", `the writer was killed after ${step}`);
    const text = readFileSync(target, "utf8");
    const scenario = `atomic write: kill after ${step}`;
    if (text !== OLD && text !== NEW) tally("invariant_violations", `${scenario}: models.config is torn`);
    assert.ok(text === OLD || text === NEW, `${scenario}: ${JSON.stringify(text)}`);
    assert.doesNotThrow(() => parseModelServerConfigBytes(Buffer.from(text), target));
    if (step === "renamed" || step === "dir-synced") assert.equal(text, NEW);
    tally("kill_points", scenario);
  }
});
