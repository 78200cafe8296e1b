// A rollout world for fault scenarios: the emulator with its control endpoint, a guarded world, a daemon with short
// deadlines, and small helpers to inject faults and wait for the daemon's step events.
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { openLocalState } from "../../src/state/local-store.js";
import { waitFor } from "../helpers/emulator-harness.js";
import {
  daemonYaml,
  spawnDaemon,
  stableVersion,
  startWorld,
  type DaemonProcess,
  type World,
} from "../helpers/rollout-world.js";
import { checkWorld, guardWorld, type Guard } from "./world-invariants.js";
import { tally } from "./tally.js";

export const TIMEOUT = 30_000;

export interface FaultWorld {
  world: World;
  guard: Guard;
  daemon: DaemonProcess;
  control(method: string, path: string, body?: unknown): Promise<unknown>;
  /** Resolves once the daemon logged `step` for `version` (any outcome) and returns that event. */
  stepLogged(step: string, version: string, outcome?: string): Promise<Record<string, unknown>>;
  /** Waits until TF Serving resolves `stable` to `version` (fails with the daemon's log). */
  waitStable(version: string, why: string): Promise<void>;
  /** Stops the daemon (SIGTERM, exit 0), checks every invariant (settled), asserts none broke, tallies the fault. */
  survived(scenario: string, rejectable?: string[]): Promise<void>;
}

/**
 * `yaml` edits the default daemon config of rollout-world (short deadlines for the faults); it gets the world too
 * (e.g. the emulator's REST port when `emulatorArgs` has --rest_api_port=0).
 */
export async function startFaultWorld(
  t: { after(fn: () => unknown): void },
  yaml: (text: string, world: World) => string = (text) => text,
  emulatorArgs: string[] = [],
  /** Runs before the daemon starts (e.g. mounts a small tmpfs); what it returns undoes it before the cleanup. */
  beforeDaemon?: (world: World) => (() => void) | undefined,
): Promise<FaultWorld> {
  const world = await startWorld({ emulatorArgs: ["--control_port=0", ...emulatorArgs] });
  const undo: (() => void)[] = [];
  t.after(async () => {
    for (const fn of undo) fn();
    await world.cleanup();
  });
  writeFileSync(world.daemonConfig, yaml(daemonYaml(), world));
  const undoHook = beforeDaemon?.(world);
  if (undoHook) undo.push(undoHook);
  await waitFor("version 1 AVAILABLE", async () =>
    (await world.grpc.getModelStatus("m")).some((s) => s.version === "1" && s.state === "AVAILABLE"),
  );
  const guard = guardWorld(world);
  const daemon = spawnDaemon(world);
  t.after(() => void (daemon.child.exitCode === null && daemon.child.kill("SIGKILL")));
  await waitFor("adopted", async () => (await stableVersion(world)) === "1", TIMEOUT);
  const fw: FaultWorld = {
    world,
    guard,
    daemon,
    control: (method, path, body) => emulatorControl(world, method, path, body),
    stepLogged: (step, version, outcome) =>
      waitFor(
        `${step} of ${version} logged`,
        () =>
          daemon
            .events()
            .find(
              (e) =>
                e.step === step && e.version === version && (outcome === undefined || e.outcome === outcome),
            ),
        TIMEOUT,
      ).catch((error: unknown) => {
        throw new Error(`${String(error)}\ndaemon log:\n${daemon.stdout()}\n${daemon.stderr()}`);
      }),
    async waitStable(version, why) {
      await waitFor(
        `stable → ${version} ${why}`,
        async () => (await stableVersion(world)) === version,
        TIMEOUT,
      ).catch((error: unknown) => {
        throw new Error(`${String(error)}\ndaemon log:\n${daemon.stdout()}`);
      });
    },
    async survived(scenario, rejectable = []) {
      await settled(world);
      daemon.child.kill("SIGTERM");
      assert.equal(await daemon.exited, 0, daemon.stderr());
      const result = await checkWorld(guard, { scenario, rejectable, settled: true });
      assert.deepEqual(result, { violations: [], lost: [] }, `${scenario}\ndaemon log:\n${daemon.stdout()}`);
      tally("faults", scenario);
    },
  };
  return fw;
}

/**
 * Waits (at most TIMEOUT) until the journal of `m` has nothing unfinished and no version is a bare candidate; an
 * unsettled world is left for the invariant checker to report.
 */
export async function settled(world: World): Promise<void> {
  const state = await openLocalState(world.stateDir);
  await waitFor(
    "the daemon settled",
    async () =>
      (await state.journal.unfinished("m")).length === 0 &&
      !(await state.verdicts.list("m")).some((r) => r.verdict === "candidate"),
    TIMEOUT,
  ).catch(() => undefined);
}

/** One call to the emulator's control endpoint (the world's emulator runs with --control_port). */
export async function emulatorControl(
  world: World,
  method: string,
  path: string,
  body?: unknown,
): Promise<unknown> {
  const port = world.emulator.ports.control_port;
  assert.ok(port, "the emulator runs with --control_port");
  const response = await fetch(`http://127.0.0.1:${port}${path}`, {
    method,
    headers: { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json: unknown = await response.json();
  assert.ok(response.ok, `${method} ${path}: ${JSON.stringify(json)}`);
  return json;
}

/** Waits until the daemon settled `version` with one of `verdicts` (read from its state dir); returns it. */
export async function verdictOf(fw: FaultWorld, version: string, verdicts: string[]): Promise<string> {
  const state = await openLocalState(fw.world.stateDir);
  return waitFor(
    `version ${version} settled as ${verdicts.join(" or ")}`,
    async () => {
      const verdict = (await state.verdicts.get("m", version))?.verdict;
      return verdict !== undefined && verdicts.includes(verdict) ? verdict : undefined;
    },
    TIMEOUT,
  ).catch((error: unknown) => {
    throw new Error(`${String(error)}\ndaemon log:\n${fw.daemon.stdout()}`);
  });
}
