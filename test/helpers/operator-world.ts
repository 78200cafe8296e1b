// Operator commands (rollback, promote, pin, unpin, retry) against a rollout world: the CLI in-process with the
// world's flags, and a quick way to roll versions out with the daemon's engine in-process (no daemon process).
import { daemonConfigFlags, loadDaemonConfig, nodeConfigFileReader } from "../../src/daemon-config/index.js";
import type { DaemonConfig } from "../../src/daemon-config/types.js";
import { Engine } from "../../src/engine/engine.js";
import { createEngineLogger } from "../../src/engine/logger.js";
import { runCli } from "../../src/program.js";
import { captureIo, type ScriptedTerminal } from "./capture-io.js";
import { waitFor } from "./emulator-harness.js";
import { configState, publish, stableVersion, type World } from "./rollout-world.js";

const TIMEOUT = 30_000;

/** The daemon's flags for this world, as every operator command takes them. */
export function operatorArgs(world: World): string[] {
  return [
    `--config=${world.daemonConfig}`,
    `--model-config-file=${world.configFile}`,
    `--grpc=127.0.0.1:${world.emulator.ports.grpc_port}`,
    `--state-dir=${world.stateDir}`,
  ];
}

export interface CliRun {
  code: number;
  out: string;
  err: string;
  prompts: string[];
  /** stdout parsed as the one JSON document `--json` prints. */
  json(): Record<string, unknown>;
}

/** Runs `tfs-rollout <argv...>` in-process against the world. */
export async function operator(world: World, argv: string[], terminal?: ScriptedTerminal): Promise<CliRun> {
  const io = captureIo({ USER: "tester" }, terminal);
  const code = await runCli([...argv, ...operatorArgs(world)], io);
  return {
    code,
    out: io.out,
    err: io.err,
    prompts: io.prompts,
    json: () => JSON.parse(io.out) as Record<string, unknown>,
  };
}

/** The daemon config of this world, loaded with the world's flags as `tfs-rollout daemon` would. */
export async function worldDaemonConfig(world: World): Promise<DaemonConfig> {
  const flags = daemonConfigFlags({
    config: world.daemonConfig,
    modelConfigFile: world.configFile,
    grpc: `127.0.0.1:${world.emulator.ports.grpc_port}`,
    stateDir: world.stateDir,
  });
  return loadDaemonConfig(flags, {}, nodeConfigFileReader(process.cwd()));
}

/**
 * Reconciles the world's model in this process (the daemon's engine, one scanner across passes, so new versions
 * pass their quiet window) until `check` holds.
 */
export async function reconcileUntil(world: World, what: string, check: () => Promise<boolean> | boolean) {
  const config = await worldDaemonConfig(world);
  const engine = await Engine.open(config, createEngineLogger({ write: () => undefined, level: "warn" }));
  try {
    await waitFor(
      what,
      async () => {
        await engine.reconciler.runOnce(engine.models);
        return check();
      },
      TIMEOUT,
    );
  } finally {
    await engine.stop();
  }
}

/**
 * Adopts version 1 (unless the model is adopted already), then publishes and promotes each of `versions` in turn
 * (until TF Serving resolves stable to it).
 */
export async function rolledOut(world: World, versions: string[] = []): Promise<void> {
  if (configState(world).labels.stable === undefined)
    await reconcileUntil(world, "stable = 1", async () => (await stableVersion(world)) === "1");
  for (const version of versions) {
    publish(world.base, version);
    await reconcileUntil(world, `stable = ${version}`, async () => (await stableVersion(world)) === version);
  }
}
