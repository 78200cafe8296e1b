// A fleet for end-to-end tests (issue 11): a real 3-member etcd cluster, N emulator processes (each with its
// control endpoint) and N `tfs-rollout daemon` processes in fleet mode, all on one shared model directory; each
// replica has its own models.config, state dir and daemon.yaml. Each replica is a rollout-world `World`, so that
// file's helpers (configState, stableVersion, spawnDaemon, invariantViolations) work on it unchanged.
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { FleetRollout } from "../../src/fleet/backend.js";
import { openEtcdFleet, type EtcdFleet } from "../../src/fleet/etcd-backend.js";
import { TfServingGrpcClient } from "../../src/tfserving/grpc-client.js";
import { spawnEmulator, waitFor } from "./emulator-harness.js";
import { startEtcdCluster, type EtcdCluster } from "./etcd-cluster.js";
import {
  daemonYaml,
  emulatorArgs,
  MODELS_CONFIG_COMMENT,
  publish,
  spawnDaemon,
  stableVersion,
  type DaemonProcess,
  type World,
} from "./rollout-world.js";

export const FLEET_TIMEOUT = 40_000;

export interface FleetReplica extends World {
  id: string;
  daemon: DaemonProcess | undefined;
  /** POSTs/DELETEs the emulator's control endpoint (faults), returns its JSON. */
  control(method: string, path: string, body?: unknown): Promise<unknown>;
}

export interface FleetWorldOptions {
  replicas?: number;
  /** coordination.fleet.max_loading (default 1). */
  maxLoading?: number;
  /** Versions on the shared store at the start, with their emulator behaviour (default: 1, good). */
  versions?: Record<string, Record<string, unknown> | undefined>;
  /** More daemon.yaml text (top-level sections not written here). */
  yaml?: string;
  /** The daemon's entry point instead of src/cli.ts through tsx (benchmarks: the built dist/src/cli.js). */
  cli?: string;
  /** More environment for a replica's daemon, each time it starts (e.g. the test-only crash hook's file). */
  daemonEnv?: (replica: FleetReplica) => NodeJS.ProcessEnv;
}

export interface FleetWorld {
  root: string;
  /** The shared model store's base path of model `m`. */
  base: string;
  etcd: EtcdCluster;
  replicas: FleetReplica[];
  /** Reads the fleet's records without joining it (never started: it holds no lease, is no member). */
  observer: EtcdFleet;
  startDaemon(index: number): DaemonProcess;
  /** SIGTERM, and waits for the exit code. */
  stopDaemon(index: number): Promise<number | null>;
  /** SIGKILL, and waits for the exit. */
  killDaemon(index: number): Promise<void>;
  /** Each replica's stable (as its TF Serving resolves the label). */
  stables(): Promise<(string | undefined)[]>;
  /** Daemon logs of every replica, for assertion messages. */
  logs(): string;
}

const TTL = "2s";

function fleetYaml(
  world: { endpoints: string[]; prefix: string },
  id: string,
  options: FleetWorldOptions,
): string {
  const coordination = [
    "coordination:",
    "  backend: etcd",
    `  replica: ${id}`,
    "  etcd:",
    `    endpoints: [${world.endpoints.join(", ")}]`,
    `    prefix: ${world.prefix}`,
    `    lease_ttl: ${TTL}`,
    "    dial_timeout: 2s",
    "  fleet:",
    `    max_loading: ${options.maxLoading ?? 1}`,
    "    policy: all",
    options.yaml ?? "",
  ].join("\n");
  // Long enough for a slow load on a busy machine; a held (stuck LOADING) version fails after it.
  return daemonYaml(coordination).replace("load_deadline: 30s", "load_deadline: 5s");
}

/** Starts the whole fleet (daemons too) and registers its cleanup with `t.after`. */
export async function startFleetWorld(
  t: { after(fn: () => Promise<void> | void): void },
  options: FleetWorldOptions = {},
): Promise<FleetWorld> {
  const root = mkdtempSync(join(tmpdir(), "tfs-fleet-"));
  const replicas: FleetReplica[] = [];
  const opened: { observer?: EtcdFleet } = {};
  // One cleanup, in order: daemons, then what they talk to (emulators, etcd), then the files.
  const etcdCleanups: (() => Promise<void> | void)[] = [];
  t.after(async () => {
    await Promise.all(
      replicas.map(async (replica) => {
        const daemon = replica.daemon;
        if (daemon && daemon.child.exitCode === null && daemon.child.signalCode === null) {
          daemon.child.kill("SIGKILL");
          await daemon.exited;
        }
      }),
    );
    await opened.observer?.stop();
    for (const replica of replicas) {
      replica.grpc.close();
      if (replica.emulator.child.exitCode === null) replica.emulator.child.kill("SIGKILL");
      await replica.emulator.stop();
    }
    for (const cleanup of etcdCleanups) await cleanup();
    rmSync(root, { recursive: true, force: true });
  });
  const etcd = await startEtcdCluster({ after: (fn) => etcdCleanups.push(fn) }, 3);

  const base = join(root, "models", "m");
  mkdirSync(base, { recursive: true });
  for (const [name, behaviour] of Object.entries(options.versions ?? { "1": undefined }))
    publish(base, name, behaviour);
  const prefix = `/fleet-${Date.now().toString(36)}/`;

  for (let i = 0; i < (options.replicas ?? 3); i++) {
    const id = `replica-${i}`;
    const dir = join(root, id);
    mkdirSync(dir, { recursive: true });
    const configFile = join(dir, "models.config");
    writeFileSync(
      configFile,
      `${MODELS_CONFIG_COMMENT}\nmodel_config_list {\n  config {\n    name: "m"  # the model\n    base_path: "${base}"\n    model_platform: "tensorflow"\n  }\n}\n`,
    );
    const daemonConfig = join(dir, "daemon.yaml");
    writeFileSync(daemonConfig, fleetYaml({ endpoints: etcd.endpoints, prefix }, id, options));
    const emulator = await spawnEmulator([...emulatorArgs(configFile, 0), "--control_port=0"]).ready;
    const grpc = new TfServingGrpcClient({
      address: `127.0.0.1:${emulator.ports.grpc_port}`,
      deadlineMs: 5000,
    });
    const replica: FleetReplica = {
      id,
      root: dir,
      base,
      configFile,
      stateDir: join(dir, "state"),
      daemonConfig,
      emulator,
      grpc,
      daemon: undefined,
      cleanup: () => Promise.resolve(),
      async control(method, path, body) {
        const response = await fetch(`http://127.0.0.1:${replica.emulator.ports.control_port}${path}`, {
          method,
          headers: { "content-type": "application/json" },
          body: body === undefined ? undefined : JSON.stringify(body),
        });
        const json: unknown = await response.json();
        if (!response.ok) throw new Error(`${replica.id} control ${method} ${path}: ${JSON.stringify(json)}`);
        return json;
      },
    };
    replicas.push(replica);
  }
  await Promise.all(
    replicas.map((replica) =>
      waitFor(`version 1 AVAILABLE on ${replica.id}`, async () =>
        (await replica.grpc.getModelStatus("m")).some((s) => s.version === "1" && s.state === "AVAILABLE"),
      ),
    ),
  );
  const observer = await openEtcdFleet({
    endpoints: etcd.endpoints,
    prefix,
    replica: "observer",
    callTimeoutMs: 3000,
  });
  opened.observer = observer;

  const world: FleetWorld = {
    root,
    base,
    etcd,
    replicas,
    observer,
    startDaemon(index) {
      const replica = replicas[index]!;
      replica.daemon = spawnDaemon(replica, [], options.daemonEnv?.(replica) ?? {}, options.cli);
      return replica.daemon;
    },
    async stopDaemon(index) {
      const daemon = replicas[index]!.daemon!;
      daemon.child.kill("SIGTERM");
      return daemon.exited;
    },
    async killDaemon(index) {
      const daemon = replicas[index]!.daemon!;
      daemon.child.kill("SIGKILL");
      await daemon.exited;
    },
    stables: () => Promise.all(replicas.map((replica) => stableVersion(replica))),
    logs: () =>
      replicas
        .map(
          (r) =>
            `--- ${r.id}\n${r.daemon?.stdout().slice(-6000) ?? ""}\n${r.daemon?.stderr().slice(-3000) ?? ""}`,
        )
        .join("\n"),
  };
  for (let i = 0; i < replicas.length; i++) world.startDaemon(i);
  return world;
}

/** Waits until `check` holds, failing with every daemon's log. */
export function waitFleet<T>(
  world: FleetWorld,
  what: string,
  check: () => T | undefined | false | Promise<T | undefined | false>,
  timeoutMs = FLEET_TIMEOUT,
): Promise<T> {
  return waitFor(what, check, timeoutMs).catch((error: unknown) => {
    throw new Error(`${String(error)}\n${world.logs()}`);
  });
}

/**
 * Samples every replica's TF Serving while `until` is pending: the most replicas seen with a version of `m`
 * LOADING at the same moment.
 */
export async function peakLoading(world: FleetWorld, until: Promise<unknown>): Promise<number> {
  let done = false;
  void until.finally(() => (done = true)).catch(() => undefined);
  let peak = 0;
  while (!done) {
    const loading = await Promise.all(
      world.replicas.map(async (replica) => {
        try {
          return (await replica.grpc.getModelStatus("m")).some((s) => s.state === "LOADING");
        } catch {
          return false;
        }
      }),
    );
    peak = Math.max(peak, loading.filter(Boolean).length);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return peak;
}

/** The replicas of a 3-replica fleet. */
export const ALL = [0, 1, 2];

export async function rolloutOf(world: FleetWorld, version: string): Promise<FleetRollout | undefined> {
  return (await world.observer.rollouts("m")).find((r) => r.version === version);
}

export function allOn(world: FleetWorld, version: string, indexes = ALL): Promise<unknown> {
  return waitFleet(world, `stable → ${version} on replicas ${indexes.join(",")}`, async () => {
    const stables = await world.stables();
    return indexes.every((i) => stables[i] === version);
  });
}

export function reportsOf(
  world: FleetWorld,
  version: string,
  phase: string,
  count: number,
): Promise<unknown> {
  return waitFleet(world, `${count} replicas reported ${phase} on ${version}`, async () => {
    const reports = Object.values((await rolloutOf(world, version))?.reports ?? {});
    return reports.filter((r) => r.phase === phase).length >= count;
  });
}

/** Which replicas logged `step` with outcome ok (fleet step events do not name their version: compare counts). */
export function applied(world: FleetWorld, step: string): string[] {
  return world.replicas.flatMap((replica) =>
    (replica.daemon?.events() ?? [])
      .filter((e) => e.step === step && e.outcome === "ok")
      .map(() => replica.id),
  );
}

export const indexOf = (world: FleetWorld, replica: string | undefined): number =>
  world.replicas.findIndex((r) => r.id === replica);

/** The replicas whose TF Serving has `version` of m in any state but END (loading, serving or unloading). */
export async function holding(world: FleetWorld, version: string): Promise<string[]> {
  const held = await Promise.all(
    world.replicas.map(async (replica) =>
      (await replica.grpc.getModelStatus("m")).some((s) => s.version === version && s.state !== "END"),
    ),
  );
  return world.replicas.filter((_, i) => held[i]).map((r) => r.id);
}

export function decided(world: FleetWorld, version: string, verdict: "promote" | "reject"): Promise<unknown> {
  return waitFleet(
    world,
    `the fleet decides ${verdict} on ${version}`,
    async () => (await rolloutOf(world, version))?.decision?.verdict === verdict,
  );
}

/**
 * Waits until the fleet recorded `version`'s directory off the shared store, and checks the store: the directory
 * is gone and exactly one renamed copy exists, under the recorded name. Returns the rollout.
 */
export async function removedOnce(world: FleetWorld, version: string): Promise<FleetRollout> {
  const rollout = await waitFleet(world, `${version} taken off the shared store`, async () => {
    const found = await rolloutOf(world, version);
    return found?.removed ? found : undefined;
  });
  const names = readdirSync(world.base);
  assert.ok(!names.includes(version), `${version} left the store: ${names.join(" ")}`);
  const renamed = names.filter((n) => n.includes(`rejected-${version}`));
  assert.deepEqual(
    renamed,
    [rollout.removed!.as],
    `renamed once, under the recorded name: ${names.join(" ")}`,
  );
  return rollout;
}
