// Rollout throughput: N models (100; quick: 5) each get a new version at the same moment (complete directories
// renamed in with their marker file), against the emulator with a fixed load delay (500 ms). Measures the time until
// every model's `stable` is verified on the new version, and the HandleReloadConfigRequest RPCs sent (from the
// emulator's call log: coalescing should make them far fewer than 2 per model). The floor, measured in the same run
// on one model alone: the same rollout with nothing else happening (load delay + gate + two reload round trips).
// The daemon runs with rollout.max_parallel_models = N (the default, 4, deliberately staggers loads).
// Run twice, each with its own emulator: a serial server (TF Serving's default --num_load_threads=0: one servable
// loads at a time, in the manager loop) and a parallel one (--num_load_threads=4, BENCH_LOAD_THREADS to change;
// TF's manager still starts at most one load per 100 ms run). The headline numbers are the parallel server's.
// Run: npx tsx bench/throughput.bench.ts [--quick]
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { createInterface } from "node:readline";
import { writeSavedModel } from "../src/savedmodel/writer.js";
import { HALF_PLUS_TWO, REPO, spawnEmulator, waitFor } from "../test/helpers/emulator-harness.js";
import { ms, QUICK, recordResult, table } from "./lib.js";

const BURST = QUICK ? 5 : Number(process.env.BENCH_MODELS ?? 100);
const LOAD_DELAY_MS = 500;
const LOAD_THREADS = Number(process.env.BENCH_LOAD_THREADS ?? 4);

interface BurstResult {
  num_load_threads: number;
  floor_ms: number;
  all_promoted_ms: number;
  ratio_to_floor: number;
  reload_rpcs: number;
  reloads_per_model: number;
  median_gate_ms: number | null;
  /** Median time of each step kind over the burst (ms, from the daemon's step events). */
  median_step_ms: Record<string, number>;
}

function stage(base: string, version: string): string {
  const staging = join(base, `${version}.tmp`);
  writeSavedModel(staging, { signatures: HALF_PLUS_TWO, withVariables: true });
  writeFileSync(join(staging, "_SUCCESS"), "");
  return staging;
}

async function runBurst(loadThreads: number): Promise<BurstResult> {
  const root = mkdtempSync(join(tmpdir(), "tfs-rollout-throughput-"));
  const models = Array.from({ length: BURST + 1 }, (_, i) => `model_${i}`); // model_0 measures the floor alone
  const bases = new Map(models.map((m) => [m, join(root, "models", m)]));
  const entries = models.map((m) => {
    mkdirSync(bases.get(m)!, { recursive: true });
    renameSync(stage(bases.get(m)!, "1"), join(bases.get(m)!, "1"));
    return (
      `  config {\n    name: "${m}"\n    base_path: "${bases.get(m)}"\n    model_platform: "tensorflow"\n` +
      `    model_version_policy { specific { versions: 1 } }\n    version_labels { key: "stable" value: 1 }\n  }\n`
    );
  });
  const configFile = join(root, "models.config");
  writeFileSync(configFile, `model_config_list {\n${entries.join("")}}\n`);
  const emulator = await spawnEmulator([
    "--port=0",
    "--listen_host=127.0.0.1",
    `--model_config_file=${configFile}`,
    "--allow_version_labels_for_unavailable_models=true",
    "--file_system_poll_wait_seconds=0.1",
    `--load_delay_ms=${LOAD_DELAY_MS}`,
    `--num_load_threads=${loadThreads}`,
    "--control_port=0",
  ]).ready;
  const control = `http://127.0.0.1:${emulator.ports.control_port}`;
  const daemonConfig = join(root, "daemon.yaml");
  writeFileSync(
    daemonConfig,
    [
      "admission:",
      "  marker_file: _SUCCESS",
      "watch:",
      '  rescan_cron: "0 0 * * *"',
      "rollout:",
      `  max_parallel_models: ${BURST}`,
    ].join("\n"),
  );
  const daemon = spawn(
    process.execPath,
    [
      "--import",
      "tsx",
      join(REPO, "src", "cli.ts"),
      "daemon",
      "--config",
      daemonConfig,
      "--model-config-file",
      configFile,
      "--grpc",
      `127.0.0.1:${emulator.ports.grpc_port}`,
      "--state-dir",
      join(root, "state"),
      "--http=127.0.0.1:0", // any free port: the default 9464 may be another daemon's
    ],
    { stdio: ["ignore", "pipe", "inherit"] },
  );
  const verified = new Map<string, number>();
  const startedOn = new Set<string>();
  let lastLine = performance.now();
  const gateMs: number[] = [];
  const stepMs = new Map<string, number[]>();
  const logLines: string[] = [];
  createInterface({ input: daemon.stdout! }).on("line", (line) => {
    if (process.env.BENCH_LOG) logLines.push(line);
    lastLine = performance.now();
    const e = JSON.parse(line) as {
      step?: string;
      outcome?: string;
      model?: string;
      version?: string;
      duration_ms?: number;
    };
    if (e.step === "verify" && e.outcome === "ok" && e.version === "1" && e.model) startedOn.add(e.model);
    if (e.outcome !== "ok" || e.version !== "2" || e.model === undefined) return;
    if (e.step === "verify") verified.set(e.model, performance.now());
    if (e.step === "gate" && e.duration_ms !== undefined) gateMs.push(e.duration_ms);
    if (e.step !== undefined && e.duration_ms !== undefined && e.model !== "model_0")
      stepMs.set(e.step, [...(stepMs.get(e.step) ?? []), e.duration_ms]);
  });
  const reloads = async (): Promise<number> => {
    const res = await fetch(`${control}/calls?method=HandleReloadConfigRequest`);
    return ((await res.json()) as { calls: unknown[] }).calls.length;
  };
  try {
    // Settled: the first pass of every model done (stable 1 verified), then the log quiet for a while.
    await waitFor("every model's first pass", () => startedOn.size === models.length, 300_000);
    await waitFor("a quiet daemon", () => performance.now() - lastLine > 1000, 60_000);
    const solo = stage(bases.get("model_0")!, "2");
    let t = performance.now();
    renameSync(solo, join(bases.get("model_0")!, "2"));
    await waitFor("the solo rollout", () => verified.has("model_0"), 120_000);
    const floorMs = verified.get("model_0")! - t;
    const reloadsBefore = await reloads();
    const burst = models.slice(1);
    const staged = burst.map((m) => [m, stage(bases.get(m)!, "2")] as const);
    t = performance.now();
    for (const [m, staging] of staged) renameSync(staging, join(bases.get(m)!, "2"));
    await waitFor("every model's rollout", () => burst.every((m) => verified.has(m)), 600_000);
    const allMs = Math.max(...burst.map((m) => verified.get(m)!)) - t;
    const burstReloads = (await reloads()) - reloadsBefore;
    const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)] ?? null;
    return {
      num_load_threads: loadThreads,
      floor_ms: Math.round(floorMs),
      all_promoted_ms: Math.round(allMs),
      ratio_to_floor: Math.round((allMs / floorMs) * 100) / 100,
      reload_rpcs: burstReloads,
      reloads_per_model: Math.round((burstReloads / BURST) * 100) / 100,
      median_gate_ms: median(gateMs),
      median_step_ms: Object.fromEntries([...stepMs].map(([step, xs]) => [step, median(xs) ?? 0])),
    };
  } finally {
    if (process.env.BENCH_LOG) writeFileSync(`${process.env.BENCH_LOG}.${loadThreads}`, logLines.join("\n"));
    if (daemon.exitCode === null) {
      const exited = new Promise((r) => daemon.once("exit", r));
      daemon.kill("SIGTERM");
      await exited;
    }
    await emulator.stop();
    rmSync(root, { recursive: true, force: true });
  }
}

const serial = await runBurst(0);
const parallel = await runBurst(LOAD_THREADS);
console.log(`Rollout throughput: ${BURST} models publish at once, load delay ${LOAD_DELAY_MS} ms`);
const rows = (label: string, r: BurstResult) => [
  [`${label}: floor, one model alone, rename → stable verified`, ms(r.floor_ms), ""],
  [`${label}: all ${BURST} models promoted`, ms(r.all_promoted_ms), ""],
  [`${label}: ratio to the floor`, `${r.ratio_to_floor}x`, "≤ 2x"],
  [`${label}: reload RPCs for the burst`, `${r.reload_rpcs} (${r.reloads_per_model}/model)`, "≪ 2/model"],
];
console.log(
  table(
    ["measure", "value", "target"],
    [
      ...rows("serial server (--num_load_threads=0)", serial),
      ...rows(`parallel server (--num_load_threads=${LOAD_THREADS})`, parallel),
    ],
  ),
);
console.log(`median step durations, parallel server (ms): ${JSON.stringify(parallel.median_step_ms)}`);
// The headline (bench/run.ts's summary) is the parallel server's; the serial one is kept beside it.
recordResult("throughput", {
  models: BURST,
  load_delay_ms: LOAD_DELAY_MS,
  ...parallel,
  serial_server: serial,
});
