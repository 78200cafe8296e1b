// The Engine in process against an in-process emulator: what reaches a running engine without the cron rescan
// (CLI intents, models.config edits) and what SIGHUP (applyConfig) changes. The rescan is set to once a year, so
// only the watchers can be what woke the engine.
import assert from "node:assert/strict";
import { readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test, type TestContext } from "node:test";
import { loadDaemonConfig, nodeConfigFileReader } from "../src/daemon-config/index.js";
import type { DaemonConfig } from "../src/daemon-config/types.js";
import { startEmulator, type RunningEmulator } from "../src/emulator/emulator.js";
import { parseFlags } from "../src/emulator/flags.js";
import { Engine } from "../src/engine/engine.js";
import { createEngineLogger, type StepEvent } from "../src/engine/logger.js";
import { openLocalState } from "../src/state/local-store.js";
import { TfServingGrpcClient } from "../src/tfserving/grpc-client.js";
import { configText, modelEntry, tempDir, waitFor, writeVersion } from "./helpers/emulator-harness.js";
import { publish } from "./helpers/rollout-world.js";

const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined };
const RARE_RESCAN = '"0 0 1 1 *"';

interface EngineWorld {
  dir: string;
  configFile: string;
  daemonFile: string;
  engine: Engine;
  emulator: RunningEmulator;
  grpc: TfServingGrpcClient;
  steps: StepEvent[];
  logs: Record<string, unknown>[];
  stepped(kind: string, model?: string, version?: string): boolean;
  reload(extraYaml: string): Promise<DaemonConfig>;
}

function daemonYaml(dir: string, configFile: string, grpcPort: number, extra = ""): string {
  return [
    `model_config_file: ${configFile}`,
    `state_dir: ${join(dir, "state")}`,
    "tf_serving:",
    `  grpc_address: 127.0.0.1:${grpcPort}`,
    "  call_deadline: 2s",
    "admission:",
    "  quiet_window: 50ms",
    "watch:",
    `  rescan_cron: ${RARE_RESCAN}`,
    extra,
  ].join("\n");
}

/** Replaces models.config by rename, as the comment-preserving editor and most operators' tools do. */
function writeAtomically(file: string, text: string): void {
  writeFileSync(`${file}.new`, text);
  renameSync(`${file}.new`, file);
}

/** `managed` is the daemon's `--models` (default: every model in models.config). */
async function startEngineWorld(
  t: TestContext,
  models: string[] = ["m"],
  managed?: string,
): Promise<EngineWorld> {
  // Torn down last-in first-out: the engine stops before its directories are removed (a watcher seeing its
  // directory vanish while it closes could otherwise leave a watch behind and keep the process alive).
  const teardown: (() => unknown)[] = [];
  t.after(async () => {
    for (const fn of teardown.reverse()) await fn();
  });
  const tmp = tempDir("tfs-engine-");
  teardown.push(() => tmp.cleanup());
  const configFile = join(tmp.dir, "models.config");
  for (const m of models) writeVersion(join(tmp.dir, m), "1");
  writeFileSync(configFile, configText(...models.map((m) => modelEntry(m, join(tmp.dir, m)))));
  const emulator = await startEmulator(
    parseFlags([
      `--model_config_file=${configFile}`,
      "--port=0",
      "--file_system_poll_wait_seconds=0.1",
      // TF Serving follows its operator's edits of models.config (as with this flag in production).
      "--model_config_file_poll_wait_seconds=0.2",
      "--max_num_load_retries=0",
      "--allow_version_labels_for_unavailable_models=true",
    ]),
    quiet,
  );
  teardown.push(() => emulator.close());
  const grpc = new TfServingGrpcClient({ address: `127.0.0.1:${emulator.ports.grpc_port}`, attempts: 1 });
  teardown.push(() => grpc.close());
  const daemonFile = join(tmp.dir, "daemon.yaml");
  writeFileSync(daemonFile, daemonYaml(tmp.dir, configFile, emulator.ports.grpc_port));
  const reader = nodeConfigFileReader(tmp.dir);
  const flags = { config: daemonFile, ...(managed === undefined ? {} : { models: managed }) };
  const config = await loadDaemonConfig(flags, {}, reader);
  const logs: Record<string, unknown>[] = [];
  const log = createEngineLogger({ write: (line) => logs.push(JSON.parse(line) as Record<string, unknown>) });
  const engine = await Engine.open(config, log);
  teardown.push(() => engine.stop());
  const steps: StepEvent[] = [];
  engine.onStep((event) => steps.push(event));
  await engine.start();
  return {
    dir: tmp.dir,
    configFile,
    daemonFile,
    engine,
    emulator,
    grpc,
    steps,
    logs,
    stepped: (kind, model, version) =>
      steps.some(
        (e) =>
          e.step.kind === kind &&
          e.outcome === "ok" &&
          (model === undefined || e.step.model === model) &&
          (version === undefined || JSON.stringify(e.step).includes(`"${version}"`)),
      ),
    async reload(extraYaml) {
      writeFileSync(daemonFile, daemonYaml(tmp.dir, configFile, emulator.ports.grpc_port, extraYaml));
      const next = await loadDaemonConfig(flags, {}, reader);
      engine.applyConfig(next);
      await engine.settled();
      return next;
    },
  };
}

const idle = (w: EngineWorld) => w.engine.reconciler.idle();

/** models.config text without the `config { ... }` block of `model` (braces matched). */
function withoutModel(text: string, model: string): string {
  const start = text.lastIndexOf("config {", text.indexOf(`name: "${model}"`));
  let depth = 0;
  for (let i = text.indexOf("{", start); i < text.length; i++) {
    if (text[i] === "{") depth++;
    else if (text[i] === "}" && --depth === 0) return text.slice(0, start) + text.slice(i + 1);
  }
  throw new Error(`no block for ${model}`);
}

/** Waits for a step; on timeout the engine's log says what it did instead. */
async function stepSeen(w: EngineWorld, kind: string, model: string, version?: string): Promise<void> {
  await waitFor(`${kind} ${model} ${version ?? ""}`, () => w.stepped(kind, model, version), 20_000).catch(
    (error: unknown) => {
      const tail = w.logs.slice(-30).map((l) => JSON.stringify(l));
      throw new Error(`${String(error)}\nengine log:\n${tail.join("\n")}`);
    },
  );
}

test("an intent put in the state dir reaches the running engine at once, not at the next rescan", async (t) => {
  const w = await startEngineWorld(t);
  await stepSeen(w, "adopt", "m");
  await stepSeen(w, "verify", "m");
  await idle(w);
  // What `tfs-rollout pin` does: a separate process's view of the same state dir puts the intent.
  const cli = await openLocalState(join(w.dir, "state"), { command: "tfs-rollout pin" });
  const intent = await cli.intents.put({ model: "m", kind: "pin", args: { version: "1" }, by: "cli:alice" });
  await stepSeen(w, "set-pin", "m");
  await waitFor("intent consumed", async () => (await cli.intents.pending("m")).length === 0);
  assert.equal((await cli.intents.consumed("m", intent.id))?.consumedBy, "daemon");
});

test("models.config: an added model is managed and watched, a moved base path re-targets, a removed model is dropped", async (t) => {
  const w = await startEngineWorld(t);
  await stepSeen(w, "adopt", "m");
  assert.deepEqual(w.engine.watching()?.models, ["m"]);

  writeVersion(join(w.dir, "m2"), "1");
  const current = readFileSync(w.configFile, "utf8");
  const end = current.lastIndexOf("}");
  writeAtomically(w.configFile, `${current.slice(0, end)}${modelEntry("m2", join(w.dir, "m2"))}\n}\n`);
  await waitFor("m2 managed", () => w.engine.models.includes("m2")).catch((e: unknown) => {
    throw new Error(
      `${String(e)}\n${JSON.stringify(w.logs.slice(-8))}\n${readFileSync(w.configFile, "utf8")}`,
    );
  });
  await w.engine.settled();
  assert.deepEqual(w.engine.watching()?.models, ["m", "m2"]);
  await stepSeen(w, "adopt", "m2");
  await stepSeen(w, "verify", "m2");
  await idle(w);

  // TF Serving's operator moves m to a new directory holding the same version 1: the new path is watched, so a
  // version published there is rolled out without any rescan.
  const moved = join(w.dir, "m-moved");
  writeVersion(moved, "1");
  const text = readFileSync(w.configFile, "utf8");
  writeAtomically(w.configFile, text.replace(`base_path: "${join(w.dir, "m")}"`, `base_path: "${moved}"`));
  await waitFor("moved base path followed", () =>
    w.logs.some((l) => l.model === "m" && l.base_path === moved),
  );
  await w.engine.settled();
  await idle(w);
  publish(moved, "2");
  await stepSeen(w, "promote", "m", "2");
  await idle(w);

  const onlyM = withoutModel(readFileSync(w.configFile, "utf8"), "m2");
  writeAtomically(w.configFile, onlyM);
  await waitFor("m2 dropped", () => !w.engine.models.includes("m2"));
  await w.engine.settled();
  assert.deepEqual(w.engine.watching()?.models, ["m"]);
  assert.ok(
    w.logs.some((l) => l.model === "m2" && /no longer managed/.test(String(l.msg))),
    "the drop is logged",
  );
});

test("SIGHUP (applyConfig): watchers are rebuilt with the new polling settings and still see new versions", async (t) => {
  const w = await startEngineWorld(t);
  await stepSeen(w, "adopt", "m");
  await idle(w);
  assert.equal(w.engine.watching()?.usePolling, false);
  assert.equal(w.engine.reconciler.parallelism, 4);
  await w.reload("  use_polling: true\n  poll_interval: 100ms\nrollout:\n  max_parallel_models: 1\n");
  assert.deepEqual(w.engine.watching(), {
    models: ["m"],
    usePolling: true,
    pollIntervalMs: 100,
    rescanCron: "0 0 1 1 *",
  });
  assert.equal(w.engine.reconciler.parallelism, 1, "rollout.max_parallel_models applied");
  await idle(w);
  publish(join(w.dir, "m"), "2");
  await stepSeen(w, "promote", "m", "2");
  // Intents are watched by the rebuilt watchers too.
  const cli = await openLocalState(join(w.dir, "state"), { command: "tfs-rollout pin" });
  await cli.intents.put({ model: "m", kind: "pin", args: { version: "2" }, by: "cli:alice" });
  await stepSeen(w, "set-pin", "m");
});

test("with --models, a listed model missing from models.config is watched and adopted once it is added", async (t) => {
  const w = await startEngineWorld(t, ["m"], "m,later");
  await stepSeen(w, "adopt", "m");
  assert.deepEqual(w.engine.models, ["m", "later"]);
  assert.deepEqual(w.engine.watching()?.models, ["m"], "nothing to watch for `later` yet");
  await idle(w);
  writeVersion(join(w.dir, "later"), "1");
  writeVersion(join(w.dir, "unlisted"), "1");
  const current = readFileSync(w.configFile, "utf8");
  const end = current.lastIndexOf("}");
  const added = [modelEntry("later", join(w.dir, "later")), modelEntry("unlisted", join(w.dir, "unlisted"))];
  writeAtomically(w.configFile, `${current.slice(0, end)}${added.join("\n")}\n}\n`);
  await stepSeen(w, "adopt", "later");
  await w.engine.settled();
  assert.deepEqual(w.engine.watching()?.models, ["m", "later"]);
  assert.deepEqual(w.engine.models, ["m", "later"], "a model --models does not list is never managed");
  assert.ok(!w.steps.some((e) => e.step.model === "unlisted"));
});
