// A real rollout world for the daemon's end-to-end tests: temp model root, models.config with comments, the
// emulator as a process on port 0, the daemon as a process (`tfs-rollout daemon`) with a temp state dir.
import { spawn, type ChildProcess } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { writeSavedModel, type SignatureToWrite } from "../../src/savedmodel/writer.js";
import { TfServingGrpcClient } from "../../src/tfserving/grpc-client.js";
import { HALF_PLUS_TWO, REPO, spawnEmulator, type EmulatorProcess } from "./emulator-harness.js";

export const MODELS_CONFIG_COMMENT = "# production models: edited by tfs-rollout, keep this comment";

export interface World {
  root: string;
  base: string;
  configFile: string;
  stateDir: string;
  daemonConfig: string;
  emulator: EmulatorProcess;
  grpc: TfServingGrpcClient;
  cleanup(): Promise<void>;
}

/** Writes version `name` under the model's base path: as `<name>.tmp`, then renamed into place. */
export function publish(
  base: string,
  name: string,
  behaviour?: Record<string, unknown>,
  signatures: Record<string, SignatureToWrite> = HALF_PLUS_TWO,
): string {
  const staging = join(base, `${name}.tmp`);
  writeSavedModel(staging, { signatures, withVariables: true });
  if (behaviour) {
    mkdirSync(join(staging, "assets.extra"), { recursive: true });
    writeFileSync(join(staging, "assets.extra", "emulator.json"), JSON.stringify(behaviour));
  }
  const dir = join(base, name);
  renameSync(staging, dir);
  return dir;
}

export function daemonYaml(extra = ""): string {
  return [
    "admission:",
    "  quiet_window: 100ms",
    "watch:",
    '  rescan_cron: "*/2 * * * * *"',
    "rollout:",
    "  load_deadline: 30s",
    "tf_serving:",
    "  call_deadline: 2s",
    "  retry:",
    "    attempts: 2",
    "    initial_backoff: 50ms",
    "    max_backoff: 200ms",
    "    overall_deadline: 2s",
    extra,
  ].join("\n");
}

/** One model `m` under `latest` with version 1, served by a fresh emulator. */
export async function startWorld(
  options: {
    versions?: Record<string, Record<string, unknown> | undefined>;
    models?: string[];
    /** More emulator flags, e.g. --control_port=0 for its call log and faults. */
    emulatorArgs?: string[];
  } = {},
): Promise<World> {
  const root = mkdtempSync(join(tmpdir(), "tfs-rollout-e2e-"));
  const models = options.models ?? ["m"];
  const entries = models.map((model) => {
    const dir = join(root, "models", model);
    mkdirSync(dir, { recursive: true });
    for (const [name, behaviour] of Object.entries(options.versions ?? { "1": undefined }))
      publish(dir, name, behaviour);
    return `  config {\n    name: "${model}"  # the model\n    base_path: "${dir}"\n    model_platform: "tensorflow"\n  }\n`;
  });
  const base = join(root, "models", models[0]!);
  const configFile = join(root, "models.config");
  writeFileSync(configFile, `${MODELS_CONFIG_COMMENT}\nmodel_config_list {\n${entries.join("")}}\n`);
  const stateDir = join(root, "state");
  const daemonConfig = join(root, "daemon.yaml");
  writeFileSync(daemonConfig, daemonYaml());
  const spawned = spawnEmulator([...emulatorArgs(configFile, 0), ...(options.emulatorArgs ?? [])]);
  let emulator: EmulatorProcess;
  try {
    emulator = await spawned.ready;
  } catch (error) {
    rmSync(root, { recursive: true, force: true });
    throw error;
  }
  const grpc = new TfServingGrpcClient({
    address: `127.0.0.1:${emulator.ports.grpc_port}`,
    deadlineMs: 5000,
  });
  const world: World = {
    root,
    base,
    configFile,
    stateDir,
    daemonConfig,
    emulator,
    grpc,
    async cleanup() {
      grpc.close();
      if (world.emulator.child.exitCode === null) world.emulator.child.kill("SIGKILL");
      await world.emulator.stop();
      rmSync(root, { recursive: true, force: true });
    },
  };
  return world;
}

/** The emulator flags every e2e world runs TF Serving with (labels for unavailable versions, fast polling). */
export function emulatorArgs(configFile: string, port: number): string[] {
  return [
    `--port=${port}`,
    "--listen_host=127.0.0.1",
    `--model_config_file=${configFile}`,
    "--allow_version_labels_for_unavailable_models=true",
    "--file_system_poll_wait_seconds=0.1",
    "--max_num_load_retries=0",
  ];
}

/** TF Serving outage: kills the emulator; `restartEmulator` brings a fresh one back on the same port. */
export async function killEmulator(world: World): Promise<void> {
  world.emulator.child.kill("SIGKILL");
  await world.emulator.stop();
}

export async function restartEmulator(world: World): Promise<void> {
  world.emulator = await spawnEmulator(emulatorArgs(world.configFile, world.emulator.ports.grpc_port)).ready;
}

export function daemonArgs(world: World, extra: string[] = []): string[] {
  return [
    "daemon",
    `--config=${world.daemonConfig}`,
    `--model-config-file=${world.configFile}`,
    `--grpc=127.0.0.1:${world.emulator.ports.grpc_port}`,
    `--state-dir=${world.stateDir}`,
    // Any free port: daemons of parallel tests must not fight over the default 127.0.0.1:9464.
    "--http=127.0.0.1:0",
    ...extra,
  ];
}

export interface DaemonProcess {
  child: ChildProcess;
  /** Log events parsed so far (stdout must be JSON lines only). */
  events(): Record<string, unknown>[];
  stdout(): string;
  stderr(): string;
  exited: Promise<number | null>;
}

/**
 * `env` is added to this process's environment (e.g. NOTIFY_SOCKET, a webhook secret). `cli` runs another entry
 * point instead of src/cli.ts through tsx (benchmarks: the built dist/src/cli.js, much faster to start).
 */
export function spawnDaemon(
  world: World,
  extra: string[] = [],
  env: NodeJS.ProcessEnv = {},
  cli?: string,
): DaemonProcess {
  const child = spawn(
    process.execPath,
    [...(cli ? [cli] : ["--import", "tsx", join(REPO, "src/cli.ts")]), ...daemonArgs(world, extra)],
    {
      cwd: REPO,
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, ...env },
    },
  );
  let out = "";
  let err = "";
  child.stdout!.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr!.on("data", (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  return {
    child,
    events: () =>
      out
        .split("\n")
        .filter((l) => l.length > 0)
        .map((l) => JSON.parse(l) as Record<string, unknown>),
    stdout: () => out,
    stderr: () => err,
    exited,
  };
}

/** The model's policy and labels as models.config holds them now (tiny regexes: the file is ours). */
export function configState(
  world: World,
  model = "m",
): {
  text: string;
  specific: string[];
  labels: Record<string, string>;
} {
  const whole = readFileSync(world.configFile, "utf8");
  const start = whole.indexOf(`name: "${model}"`);
  const next = whole.indexOf("config {", start);
  const block = start < 0 ? "" : whole.slice(start, next < 0 ? undefined : next);
  const specific = [...block.matchAll(/versions:\s*(\d+)/g)].map((m) => m[1]!);
  const labels: Record<string, string> = {};
  for (const m of block.matchAll(/version_labels\s*\{\s*key:\s*"([^"]+)"\s*value:\s*(\d+)\s*\}/g))
    labels[m[1]!] = m[2]!;
  return { text: whole, specific, labels };
}

export async function stableVersion(world: World, model = "m"): Promise<string | undefined> {
  try {
    const metadata = await world.grpc.getModelMetadata(model, { label: "stable" });
    return String((metadata.model_spec.version as { value?: unknown } | undefined)?.value);
  } catch {
    return undefined;
  }
}

export function tempRoot(): { dir: string; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), "tfs-rollout-"));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/**
 * Issue 5's crash invariants for `model`, as models.config, TF Serving and the disk say now: every label names an
 * AVAILABLE version, the specific list is not empty, the base path is in the config and on disk, the version
 * `stable` names is on disk, and models.config keeps its comments. Returns the violations (none when all hold).
 */
export async function invariantViolations(world: World, model = "m"): Promise<string[]> {
  const out: string[] = [];
  const { text, specific, labels } = configState(world, model);
  const block = text.slice(text.indexOf(`name: "${model}"`));
  const basePath = /base_path:\s*"([^"]+)"/.exec(block)?.[1];
  if (basePath === undefined) out.push("no base_path in models.config");
  else if (!existsSync(basePath)) out.push(`base path ${basePath} is missing`);
  if (/model_version_policy\s*\{\s*specific/.test(block) && specific.length === 0)
    out.push("empty specific list");
  const statuses = await world.grpc.getModelStatus(model);
  for (const [label, version] of Object.entries(labels)) {
    const state = statuses.find((s) => s.version === version)?.state;
    if (state !== "AVAILABLE") out.push(`label ${label} names ${version}, which is ${state ?? "not listed"}`);
  }
  const stable = labels.stable;
  if (stable !== undefined && basePath !== undefined) {
    const names = existsSync(basePath) ? readdirSync(basePath) : [];
    if (!names.some((n) => /^\s*[+]?\d+\s*$/.test(n) && BigInt(n.trim()) === BigInt(stable)))
      out.push(`stable ${stable} has no directory in ${basePath}`);
  }
  if (!text.startsWith(MODELS_CONFIG_COMMENT) || !text.includes("# the model"))
    out.push("models.config lost its comments");
  return out;
}
