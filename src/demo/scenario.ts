/**
 * The demo's story, phase by phase, each with its own deadline: TF Serving (the emulator) serves half_plus_two v1,
 * the daemon adopts it, then (a) a good version renamed into base_path is promoted, (b) a version copied slowly file
 * by file is held back until complete, then promoted, (c) a version with NaN outputs is rolled back, while a client
 * keeps calling Predict by the label `stable` throughout and must never fail.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { TfServingGrpcClient } from "../tfserving/grpc-client.js";
import { finalStatus } from "./final-status.js";
import { copySlowly, MODEL, NAN_OUTPUTS, publishAtomically, writeVersion } from "./model.js";
import { startChild, waitUntil, type Child } from "./processes.js";
import { parseEvents, stepEvents, timeline, type DemoNote, type LogEvent } from "./timeline.js";
import { StableTraffic, type TrafficReport } from "./traffic.js";
import { commandFlags, createWorld, QUIET_WINDOW_MS, type DemoWorld } from "./world.js";

export interface DemoOptions {
  /** Deadline of each phase, ms. */
  phaseTimeoutMs: number;
  /** Pause between the writes of the slow copy, ms (longer than the quiet window). */
  copyPauseMs: number;
  print: (line: string) => void;
}

/** Everything the demo started, for cleanup from any point (including Ctrl-C). */
export interface DemoResources {
  world?: DemoWorld;
  emulator?: Child;
  daemon?: Child;
  client?: TfServingGrpcClient;
  traffic?: StableTraffic;
}

export class DemoFailure extends Error {}

export async function runDemo(options: DemoOptions, res: DemoResources): Promise<void> {
  const { print } = options;
  const start = Date.now();
  const notes: DemoNote[] = [];
  const note = (text: string) => {
    notes.push({ time: Date.now(), text });
    print(`${`+${((Date.now() - start) / 1000).toFixed(1)}s`.padStart(7)}  ${text}`);
  };
  const world = (res.world = createWorld());
  note(`model root ${world.base} with half_plus_two version 1; models.config ${world.modelsConfig}`);

  const phase = async <T>(name: string, body: () => Promise<T>): Promise<T> => {
    try {
      return await body();
    } catch (error) {
      throw new DemoFailure(`phase "${name}" failed: ${(error as Error).message}`, { cause: error });
    }
  };
  const events = (): LogEvent[] => parseEvents(res.daemon?.lines() ?? []);
  const daemonDied = () =>
    res.daemon && res.daemon.process.exitCode !== null
      ? `the daemon exited (${res.daemon.process.exitCode})`
      : undefined;
  const within = <T>(what: string, check: () => T | undefined | false | Promise<T | undefined | false>) =>
    waitUntil(what, check, options.phaseTimeoutMs, daemonDied);

  const grpcPort = await phase("start TF Serving (emulator)", async () => {
    const emulator = (res.emulator = startChild("emulator", "emulator/main", [
      "--port=0",
      "--listen_host=127.0.0.1",
      `--model_config_file=${world.modelsConfig}`,
      "--allow_version_labels_for_unavailable_models=true",
      "--file_system_poll_wait_seconds=0.2",
      "--max_num_load_retries=0",
    ]));
    const ports = await waitUntil(
      "the emulator's ports line",
      () => emulator.lines()[0],
      options.phaseTimeoutMs,
      () => (emulator.process.exitCode !== null ? `it exited: ${emulator.stderr()}` : undefined),
    );
    const port = (JSON.parse(ports) as { grpc_port: number }).grpc_port;
    const client = (res.client = new TfServingGrpcClient({
      address: `127.0.0.1:${port}`,
      deadlineMs: 5000,
      attempts: 1,
    }));
    await within("version 1 AVAILABLE", async () =>
      (await client.getModelStatus(MODEL).catch(() => [])).some(
        (s) => s.version === "1" && s.state === "AVAILABLE",
      ),
    );
    note(`TF Serving emulator (pid ${emulator.pid}) serves ${MODEL} v1 on 127.0.0.1:${port}`);
    return port;
  });
  const client = res.client!;
  const stableIs = async (version: string) =>
    String(
      (
        (await client.getModelMetadata(MODEL, { label: "stable" }).catch(() => undefined))?.model_spec
          .version as { value?: unknown } | undefined
      )?.value,
    ) === version;

  await phase("start the daemon, adopt the model", async () => {
    res.daemon = startChild("daemon", "cli", ["daemon", ...commandFlags(world, grpcPort)]);
    note(
      `tfs-rollout daemon (pid ${res.daemon.pid}) started: quiet window ${QUIET_WINDOW_MS} ms, rescan every 2 s`,
    );
    await within("stable → 1 (adoption)", () => stableIs("1"));
    res.traffic = new StableTraffic(client, MODEL);
    note("client traffic started: Predict by label stable, checking y = 0.5 * x + 2");
  });

  await phase("(a) a good version, renamed into place", async () => {
    note("(a) publishing version 2: written as 2.tmp, then renamed to 2");
    publishAtomically(world.base, "2");
    await within(
      "version 2 promoted (stable → 2)",
      async () => stepEvents(events(), "verify", "2").some((e) => e.outcome === "ok") && stableIs("2"),
    );
  });

  await phase("(b) a version copied slowly", async () => {
    const source = join(world.staging, "3");
    writeVersion(source);
    note(
      `(b) copying version 3 straight into base_path, file by file (${options.copyPauseMs} ms between writes)`,
    );
    await copySlowly(source, world.base, "3", options.copyPauseMs, (file) => note(`(b) copied 3/${file}`));
    const copied = Date.now();
    const held = stepEvents(events(), "wait").filter(
      (e) => /still being copied/.test(String(e.waiting_for)) && /\b3\b/.test(String(e.waiting_for)),
    );
    if (!held.some((e) => Number(e.time) < copied))
      throw new Error("the daemon never said version 3 was still being copied");
    await within(
      "version 3 promoted (stable → 3)",
      async () => stepEvents(events(), "verify", "3").some((e) => e.outcome === "ok") && stableIs("3"),
    );
    const load = stepEvents(events(), "load", "3")[0];
    if (!load || Number(load.time) - Number(load.duration_ms ?? 0) < copied)
      throw new Error("version 3 was loaded before its copy had finished");
  });

  await phase("(c) a broken version (NaN outputs)", async () => {
    note("(c) publishing version 4, whose outputs are all NaN (emulator behaviour file), renamed into place");
    publishAtomically(world.base, "4", NAN_OUTPUTS);
    await within("version 4 rejected", () =>
      stepEvents(events(), "record-verdict", "4").some((e) => e.outcome === "ok"),
    );
    await within(
      "version 4 moved out of the way",
      () =>
        readdirSync(world.base).some((n) => n.startsWith(".rejected-4-")) &&
        !readdirSync(world.base).includes("4"),
    );
    if (!(await stableIs("3"))) throw new Error("stable no longer names version 3");
  });

  const traffic = await res.traffic!.stop();
  res.traffic = undefined;
  const daemonExit = await res.daemon!.stop();
  note(`daemon stopped with SIGTERM (exit ${daemonExit})`);

  print("");
  print("Timeline (from the daemon's JSON log; time since the demo started):");
  for (const line of timeline(events(), notes, start)) print(`  ${line}`);
  print("");
  print("Outcomes:");
  for (const line of outcomes(events(), world, traffic)) print(`  ${line}`);
  print("");
  print(`models.config now (${world.modelsConfig}):`);
  print(readFileSync(world.modelsConfig, "utf8"));
  print("tfs-rollout status:");
  print(await phase("final tfs-rollout status", () => finalStatus(world, MODEL, grpcPort)));
  if (traffic.failures > 0 || daemonExit !== 0)
    throw new DemoFailure(
      traffic.failures > 0
        ? `${traffic.failures} Predict request(s) by label stable failed: ${traffic.firstFailure}`
        : `the daemon exited ${daemonExit} on SIGTERM, expected 0`,
    );
}

function outcomes(events: LogEvent[], world: DemoWorld, traffic: TrafficReport): string[] {
  const gate = stepEvents(events, "gate", "4")[0];
  const rejected = readdirSync(world.base).find((n) => n.startsWith(".rejected-4-"));
  const byVersion = Object.entries(traffic.byVersion)
    .map(([version, count]) => `v${version}: ${count}`)
    .join(", ");
  return [
    "(a) version 2 (renamed into place): PROMOTED, stable -> 2",
    "(b) version 3 (copied slowly): HELD while being copied, then PROMOTED, stable -> 3",
    `(c) version 4 (NaN outputs): ROLLED BACK (gate: ${String(gate?.reason ?? "failed")}); renamed to ${rejected}; stable stayed 3`,
    `clients: ${traffic.requests} Predict requests by label stable, ${traffic.failures} failed (answered by ${byVersion})`,
  ];
}
