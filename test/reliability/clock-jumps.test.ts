// Clock jumps (issue 9): the daemon's engine in process with an injected wall clock that the test steps hours
// forward or back mid-rollout, against the emulator process. Durations (load/AVAILABLE deadline, admission quiet
// window, approval timeout, bake period) run on the engine's steady clock and must not move: forward, nothing
// expires early (no good version rejected, no held candidate promoted, nothing admitted unquiet); back, nothing
// stalls for hours. Calendar rules (a freeze) follow the wall clock. Each scenario ends with the invariant checker.
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { test } from "node:test";
import { Engine } from "../../src/engine/engine.js";
import { createEngineLogger, type StepEvent } from "../../src/engine/logger.js";
import { openLocalState } from "../../src/state/local-store.js";
import { waitFor } from "../helpers/emulator-harness.js";
import { operator, worldDaemonConfig } from "../helpers/operator-world.js";
import { daemonYaml, publish, stableVersion, startWorld, type World } from "../helpers/rollout-world.js";
import { emulatorControl, settled, TIMEOUT } from "./fault-world.js";
import { tally } from "./tally.js";
import { checkWorld, guardWorld, type Guard } from "./world-invariants.js";

const HOUR = 3_600_000;

interface ClockWorld {
  world: World;
  guard: Guard;
  engine: Engine;
  /** Steps the engine's wall clock by `hours` (negative: back). */
  jump(hours: number): void;
  stepped(kind: string, version: string, outcome?: string): StepEvent | undefined;
  waitStep(kind: string, version: string, outcome?: string): Promise<StepEvent>;
  /** One more pass now (as a watch event or the cron would trigger), then idle. */
  pass(): Promise<void>;
  control(method: string, path: string, body?: unknown): Promise<unknown>;
  verdict(version: string): Promise<string | undefined>;
  survived(scenario: string, rejectable?: string[]): Promise<void>;
}

async function clockWorld(
  t: { after(fn: () => unknown): void },
  yaml: (text: string) => string,
): Promise<ClockWorld> {
  const teardown: (() => unknown)[] = [];
  t.after(async () => {
    for (const fn of teardown.reverse()) await fn();
  });
  const world = await startWorld({ emulatorArgs: ["--control_port=0"] });
  teardown.push(() => world.cleanup());
  writeFileSync(world.daemonConfig, yaml(daemonYaml()));
  const guard = guardWorld(world);
  const config = await worldDaemonConfig(world);
  let shift = 0;
  const logs: string[] = [];
  const engine = await Engine.open(config, createEngineLogger({ write: (line) => logs.push(line) }), {
    wall: () => Date.now() + shift,
  });
  let stopped = false;
  teardown.push(() => (stopped ? undefined : engine.stop()));
  const steps: StepEvent[] = [];
  engine.onStep((event) => steps.push(event));
  await engine.start();
  const withLog = (error: unknown) => {
    throw new Error(`${String(error)}\nengine log:\n${logs.slice(-40).join("")}`);
  };
  await waitFor("adopted", async () => (await stableVersion(world)) === "1", TIMEOUT).catch(withLog);
  const state = await openLocalState(world.stateDir);
  const stepped = (kind: string, version: string, outcome?: string) =>
    steps.find(
      (e) =>
        e.step.kind === kind &&
        (e.step as { version?: string }).version === version &&
        (outcome === undefined || e.outcome === outcome),
    );
  return {
    world,
    guard,
    engine,
    jump: (hours) => void (shift += hours * HOUR),
    stepped,
    waitStep: (kind, version, outcome) =>
      waitFor(`${kind} ${version} ${outcome ?? ""}`, () => stepped(kind, version, outcome), TIMEOUT).catch(
        withLog,
      ),
    async pass() {
      engine.reconciler.enqueue("m");
      await engine.reconciler.idle();
    },
    control: (method, path, body) => emulatorControl(world, method, path, body),
    verdict: async (version) => (await state.verdicts.get("m", version))?.verdict,
    async survived(scenario, rejectable = []) {
      await settled(world);
      stopped = true;
      await engine.stop();
      const result = await checkWorld(guard, { scenario, rejectable, settled: true });
      assert.deepEqual(result, { violations: [], lost: [] }, `${scenario}\nengine log:\n${logs.join("")}`);
      tally("faults", scenario);
    },
  };
}

const loadDeadline = (deadline: string) => (yaml: string) =>
  yaml.replace("load_deadline: 30s", `load_deadline: ${deadline}`);

// Was a bug: the engine planned on Date.now, so a deadline computed before a forward step had passed after it.
test("the wall clock jumps 6 h forward while the candidate loads: not rejected for its load deadline, promoted once AVAILABLE", async (t) => {
  const cw = await clockWorld(t, loadDeadline("30s"));
  await cw.control("POST", "/faults/hold", { model: "m", version: 2 });
  publish(cw.world.base, "2");
  cw.guard.protect("m", "2");
  await cw.waitStep("load", "2", "ok");
  const jumped = Date.now();
  cw.jump(+6);
  // The AVAILABLE wait keeps polling after the jump (three GetModelStatus calls), then the load completes.
  await waitFor("await-available polling after the jump", async () => {
    const { calls } = (await cw.control("GET", `/calls?method=GetModelStatus&since=${jumped}`)) as {
      calls: unknown[];
    };
    return calls.length >= 3;
  });
  assert.equal(cw.stepped("await-available", "2", "failed"), undefined, "no bogus load deadline");
  await cw.control("DELETE", "/faults/hold", { model: "m", version: 2 });
  await waitFor("2 promoted", async () => (await cw.verdict("2")) === "promoted", TIMEOUT);
  assert.equal(await stableVersion(cw.world), "2");
  await cw.survived("wall clock 6 h forward during a load");
});

test("the wall clock jumps 6 h back while a candidate is stuck LOADING: rejected at its load deadline, not 6 h later", async (t) => {
  const cw = await clockWorld(t, loadDeadline("2s"));
  await cw.control("POST", "/faults/hold", { model: "m", version: 2 });
  publish(cw.world.base, "2");
  await cw.waitStep("load", "2", "ok");
  cw.jump(-6);
  await waitFor("version 2 rejected", async () => (await cw.verdict("2")) === "rejected", TIMEOUT);
  assert.equal(await stableVersion(cw.world), "1");
  await cw.control("DELETE", "/faults");
  await cw.survived("wall clock 6 h back during a stuck load", ["2"]);
});

test("the wall clock jumps 6 h forward while a candidate waits for approval (1 h, then promote): still waits; promoted by the operator", async (t) => {
  const cw = await clockWorld(
    t,
    (yaml) => `${yaml}\napproval:\n  required: true\n  timeout: 1h\n  on_timeout: promote\n`,
  );
  publish(cw.world.base, "2");
  cw.guard.protect("m", "2");
  await cw.waitStep("request-approval", "2", "ok");
  cw.jump(+6);
  await cw.pass();
  await cw.pass();
  assert.equal(cw.stepped("promote", "2"), undefined, "the approval timeout did not fire early");
  assert.equal(await stableVersion(cw.world), "1");
  const promote = await operator(cw.world, ["promote", "m"]);
  assert.equal(promote.code, 0, promote.err);
  await waitFor("stable → 2", async () => (await stableVersion(cw.world)) === "2", TIMEOUT);
  await cw.survived("wall clock 6 h forward during an approval wait");
});

test("the wall clock jumps 6 h forward while a version waits out a 1 h quiet window: not admitted early", async (t) => {
  const cw = await clockWorld(t, (yaml) =>
    yaml.replace("quiet_window: 100ms", "quiet_window: 1h\n  incomplete_deadline: 2h"),
  );
  publish(cw.world.base, "2");
  cw.guard.protect("m", "2");
  await cw.pass();
  cw.jump(+6);
  await cw.pass();
  await cw.pass();
  assert.equal(cw.stepped("admit", "2"), undefined, "admitted before its quiet window");
  assert.equal(await cw.verdict("2"), undefined);
  await cw.survived("wall clock 6 h forward during a quiet window");
});

test("the wall clock jumps 6 h back during a 3 s bake period: the bake still ends after 3 s", async (t) => {
  const cw = await clockWorld(t, (yaml) => `${yaml}\nbake:\n  period: 3s\n  probe_cron: "* * * * * *"\n`);
  publish(cw.world.base, "2");
  cw.guard.protect("m", "2");
  await waitFor("stable → 2, baking", async () => cw.engine.bake.baking().has("m"), TIMEOUT);
  cw.jump(-6);
  await waitFor("the bake ended", () => !cw.engine.bake.baking().has("m"), TIMEOUT);
  assert.equal(await stableVersion(cw.world), "2");
  await cw.survived("wall clock 6 h back during the bake period");
});

test("a freeze follows the wall clock: a candidate held by a freeze is promoted once the wall clock passes its end", async (t) => {
  const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d+Z$/, "Z");
  const now = Date.now();
  const cw = await clockWorld(
    t,
    (yaml) =>
      `${yaml}\npromotion:\n  freezes:\n    - from: "${iso(now - 60_000)}"\n      to: "${iso(now + HOUR)}"\n`,
  );
  publish(cw.world.base, "2");
  cw.guard.protect("m", "2");
  await cw.waitStep("gate", "2", "ok");
  await cw.pass();
  assert.equal(await stableVersion(cw.world), "1", "held by the freeze");
  cw.jump(+2);
  await cw.pass();
  await waitFor("stable → 2", async () => (await stableVersion(cw.world)) === "2", TIMEOUT);
  await cw.survived("wall clock past a freeze's end");
});
