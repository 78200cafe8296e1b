/**
 * Fleet mode in process (test/fleet-engine.test.ts, test/fleet-cli.test.ts): three Engines, each with its own
 * in-process emulator, models.config and state dir, one shared base path, agreeing through the in-memory fleet
 * backend (src/fleet/memory-backend.ts).
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import assert from "node:assert/strict";
import type { TestContext } from "node:test";
import { loadDaemonConfig, nodeConfigFileReader } from "../../src/daemon-config/index.js";
import { startEmulator, type RunningEmulator } from "../../src/emulator/emulator.js";
import { parseFlags } from "../../src/emulator/flags.js";
import { Engine } from "../../src/engine/engine.js";
import { createEngineLogger, type StepEvent } from "../../src/engine/logger.js";
import { MemoryFleet } from "../../src/fleet/memory-backend.js";
import { setCliFleetForTests } from "../../src/commands/fleet-view.js";
import { runCli } from "../../src/program.js";
import { captureIo } from "./capture-io.js";
import { configText, modelEntry, tempDir, waitFor, writeVersion } from "./emulator-harness.js";
import { configState } from "./rollout-world.js";

const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined };
export const IDS = ["r1", "r2", "r3"] as const;

export interface Replica {
  id: string;
  dir: string;
  configFile: string;
  /** The replica's daemon config (operator commands run with --config on it). */
  daemonFile: string;
  emulator: RunningEmulator;
  engine: Engine | undefined;
  steps: StepEvent[];
}

export interface FleetWorld {
  base: string;
  fleet: MemoryFleet;
  replicas: Replica[];
  /** Every applied step of every replica, in order. */
  steps: { replica: string; event: StepEvent }[];
  /** Most replicas between their `load` and the report ending their check, at any one time. */
  peakLoading(): number;
  replica(id: string): Replica;
  stable(id: string): string | undefined;
  start(id: string): Promise<void>;
  stop(id: string): Promise<void>;
}

export interface FleetWorldOptions {
  /** The daemon config's `bake:` keys, indented (default: `  period: 0`). */
  bake?: string[];
  /** More daemon config lines (top-level sections such as `promotion:` or `approval:`). */
  extra?: string[];
}

export async function startFleetWorld(
  t: TestContext,
  maxLoading = 1,
  options: FleetWorldOptions = {},
): Promise<FleetWorld> {
  const teardown: (() => unknown)[] = [];
  t.after(async () => {
    for (const fn of teardown.reverse()) await fn();
  });
  const tmp = tempDir("tfs-fleet-");
  teardown.push(() => tmp.cleanup());
  const base = join(tmp.dir, "store", "m");
  writeVersion(base, "1");
  const fleet = new MemoryFleet();
  const steps: FleetWorld["steps"] = [];
  const loading = new Set<string>();
  let peak = 0;
  const replicas: Replica[] = [];
  for (const id of IDS) {
    const dir = join(tmp.dir, id);
    const configFile = join(dir, "models.config");
    writeVersion(join(dir, "unused"), "1"); // creates the replica's directory
    writeFileSync(configFile, configText(modelEntry("m", base)));
    const emulator = await startEmulator(
      parseFlags([
        `--model_config_file=${configFile}`,
        "--port=0",
        "--file_system_poll_wait_seconds=0.1",
        "--max_num_load_retries=0",
      ]),
      quiet,
    );
    teardown.push(() => emulator.close());
    replicas.push({
      id,
      dir,
      configFile,
      daemonFile: join(dir, "daemon.yaml"),
      emulator,
      engine: undefined,
      steps: [],
    });
  }
  const world: FleetWorld = {
    base,
    fleet,
    replicas,
    steps,
    peakLoading: () => peak,
    replica: (id) => replicas.find((r) => r.id === id)!,
    stable: (id) => configState({ configFile: world.replica(id).configFile } as never).labels.stable,
    async start(id) {
      const r = world.replica(id);
      const daemonFile = r.daemonFile;
      writeFileSync(
        daemonFile,
        [
          `model_config_file: ${r.configFile}`,
          `state_dir: ${join(r.dir, "state")}`,
          "tf_serving:",
          `  grpc_address: 127.0.0.1:${r.emulator.ports.grpc_port}`,
          "  call_deadline: 2s",
          "admission:",
          "  quiet_window: 50ms",
          "watch:",
          '  rescan_cron: "*/1 * * * * *"',
          "rollout:",
          "  load_deadline: 2s",
          "bake:",
          ...(options.bake ?? ["  period: 0"]),
          ...(options.extra ?? []),
          "http:",
          "  listen: off",
          "coordination:",
          `  replica: ${id}`,
          "  fleet:",
          `    max_loading: ${maxLoading}`,
        ].join("\n"),
      );
      const config = await loadDaemonConfig({ config: daemonFile }, {}, nodeConfigFileReader(r.dir));
      const log = createEngineLogger({ write: () => undefined, level: "silent" });
      const engine = await Engine.open(config, log, { fleet: fleet.replica(id) });
      engine.onStep((event) => {
        r.steps.push(event);
        steps.push({ replica: id, event });
        const { step } = event;
        if (step.kind === "load" && event.outcome === "ok") loading.add(id);
        if (step.kind === "fleet-report" && step.phase !== "loading") loading.delete(id);
        peak = Math.max(peak, loading.size);
      });
      r.engine = engine;
      await engine.start();
    },
    async stop(id) {
      const r = world.replica(id);
      const engine = r.engine;
      r.engine = undefined;
      await engine?.stop();
    },
  };
  teardown.push(() => Promise.all(IDS.map((id) => world.stop(id))));
  for (const id of IDS) await world.start(id);
  // Verified through TF Serving (stable resolves to 1), not only written to models.config.
  await waitFleet(
    world,
    "every replica adopted and verified version 1",
    () =>
      IDS.every((id) => world.replica(id).steps.some((e) => e.step.kind === "verify" && e.outcome === "ok")),
    20_000,
  );
  return world;
}

export const stepsOf = (w: FleetWorld, kind: string, version?: string) =>
  w.steps.filter(
    (s) =>
      s.event.step.kind === kind &&
      s.event.outcome === "ok" &&
      (version === undefined || ("version" in s.event.step && s.event.step.version === version)),
  );

export async function rolloutOf(w: FleetWorld, version: string) {
  const probe = w.fleet.replica("observer");
  await probe.start();
  try {
    return (await probe.rollouts("m")).find((r) => r.version === version);
  } finally {
    await probe.stop();
  }
}

export const allStable = (w: FleetWorld, version: string, ids: readonly string[] = IDS) =>
  ids.every((id) => w.stable(id) === version);

/** waitFor, failing with what every replica waits for, its last steps and the fleet's records. */
export async function waitFleet<T>(
  w: FleetWorld,
  what: string,
  check: () => T | undefined | false | Promise<T | undefined | false>,
  timeoutMs = 40_000,
): Promise<T> {
  try {
    return await waitFor(what, check, timeoutMs);
  } catch (error) {
    const probe = w.fleet.replica("diagnostics");
    await probe.start().catch(() => undefined);
    const rollouts = await probe.rollouts("m").catch((e: unknown) => String(e));
    const slots = await probe.loadSlots("m").catch((e: unknown) => String(e));
    const members = await probe.members().catch((e: unknown) => String(e));
    await probe.stop();
    const replicas = w.replicas.map((r) => ({
      id: r.id,
      stable: w.stable(r.id),
      waits: r.engine?.reconciler.waits().get("m"),
      outcome: r.engine?.reconciler.outcomes.get("m"),
      steps: [...r.steps.slice(0, 3), ...r.steps.slice(3).slice(-6)].map(
        (e) => `${e.step.kind}:${e.outcome}:${e.reason.slice(0, 160)}`,
      ),
    }));
    throw new Error(
      `${(error as Error).message}\n${JSON.stringify({ replicas, rollouts, slots, members }, null, 1)}`,
    );
  }
}

/** Waits until the removal of rejected `version` from the shared store is recorded; its rollout then. */
export async function removedRollout(w: FleetWorld, version: string) {
  await waitFleet(
    w,
    `${version} left the shared store`,
    () => stepsOf(w, "fleet-mark-removed", version).length > 0,
  );
  const rollout = await rolloutOf(w, version);
  assert.equal(rollout?.decision?.verdict, "reject");
  assert.equal(stepsOf(w, "quarantine", version).length, 1, `${version} renamed exactly once`);
  return rollout;
}

/** Operator commands (run in process, USER alice) join this world's fleet under their own id for this test. */
export function fleetCli(t: TestContext, w: FleetWorld) {
  setCliFleetForTests((_config, id) => w.fleet.replica(id));
  t.after(() => setCliFleetForTests(undefined));
  return async (argv: string[]) => {
    const io = captureIo({ USER: "alice" });
    const code = await runCli(argv, io);
    return { code, out: io.out, err: io.err };
  };
}

/** Waits until every replica's `stable` is `stable` again and `gone` is no longer listed in its models.config. */
export const waitRolledBack = (w: FleetWorld, stable: string, gone: string) =>
  waitFleet(
    w,
    `every replica back on ${stable} with ${gone} unloaded`,
    () =>
      IDS.every((id) => {
        const state = configState({ configFile: w.replica(id).configFile } as never);
        return state.labels.stable === stable && !state.specific.includes(gone);
      }),
    40_000,
  );
