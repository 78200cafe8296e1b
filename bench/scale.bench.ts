// Scale: 1,000 models with 20 version directories each, plus one non-version entry per model (1,000 in all),
// already adopted (specific [20], stable 20) and served by the emulator. Measures the daemon (the built
// dist/src/cli.js, as users run it): start → ready (its "ready" log event), start → initial reconcile settled (CPU
// quiet), resident memory, inotify watches held, CPU while idle over 60 s (the 30 s rescan included), the time to
// admit one new version published among them (marker-file mode), and the CPU of one full resync (SIGHUP reconciles
// every model, as the 30-minute `watch.resync_cron` does), spread over its interval.
// Run: npm run build && npx tsx bench/scale.bench.ts [--quick]   (quick: 30 models, 2 s idle window)
import { spawn } from "node:child_process";
import {
  appendFileSync,
  existsSync,
  linkSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { performance } from "node:perf_hooks";
import { createInterface } from "node:readline";
import { writeSavedModel } from "../src/savedmodel/writer.js";
import { TfServingGrpcClient } from "../src/tfserving/grpc-client.js";
import { HALF_PLUS_TWO, REPO, spawnEmulator, waitFor } from "../test/helpers/emulator-harness.js";
import { ms, QUICK, recordResult, table } from "./lib.js";

// For profiling: SCALE_MODELS, SCALE_IDLE_MS override the sizes; SCALE_DAEMON_LOG=<file> keeps the daemon's log;
// SCALE_DAEMON_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" goes to the daemon's node.
const MODELS = Number(process.env.SCALE_MODELS ?? (QUICK ? 30 : 1000));
const VERSIONS = 20;
const IDLE_WINDOW_MS = Number(process.env.SCALE_IDLE_MS ?? (QUICK ? 2_000 : 60_000));
const CLI = join(REPO, "dist", "src", "cli.js");
/** BENCH_FROM_SOURCE=1 runs src/cli.ts through tsx instead (slower start, more memory): for a tree that does not build. */
const FROM_SOURCE = process.env.BENCH_FROM_SOURCE === "1";

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile())
    .map((e) => relative(dir, join(e.parentPath, e.name)));
}

/** Every version is hard links to one template SavedModel, so 20,000 versions cost seconds, not minutes. */
function buildStore(root: string): string {
  const template = join(root, "template");
  writeSavedModel(template, { signatures: HALF_PLUS_TWO, withVariables: true });
  const files = filesUnder(template);
  const entries: string[] = [];
  for (let m = 0; m < MODELS; m++) {
    const base = join(root, "models", `model_${m}`);
    for (let v = 1; v <= VERSIONS; v++) {
      for (const file of files) {
        const to = join(base, String(v), file);
        mkdirSync(join(to, ".."), { recursive: true });
        linkSync(join(template, file), to);
      }
    }
    writeFileSync(join(base, "NOTES.txt"), "not a version\n");
    entries.push(
      `  config {\n    name: "model_${m}"\n    base_path: "${base}"\n    model_platform: "tensorflow"\n` +
        `    model_version_policy { specific { versions: ${VERSIONS} } }\n` +
        `    version_labels { key: "stable" value: ${VERSIONS} }\n  }\n`,
    );
  }
  const configFile = join(root, "models.config");
  writeFileSync(configFile, `model_config_list {\n${entries.join("")}}\n`);
  return configFile;
}

function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // utime + stime, in clock ticks of 10 ms
}

function statusKb(pid: number, key: "VmRSS" | "VmHWM"): number {
  const line = readFileSync(`/proc/${pid}/status`, "utf8")
    .split("\n")
    .find((l) => l.startsWith(`${key}:`));
  return Number(line?.split(/\s+/)[1] ?? NaN);
}

function inotifyWatches(pid: number): number {
  let watches = 0;
  for (const fd of readdirSync(`/proc/${pid}/fdinfo`)) {
    try {
      watches += readFileSync(`/proc/${pid}/fdinfo/${fd}`, "utf8")
        .split("\n")
        .filter((l) => l.startsWith("inotify wd:")).length;
    } catch {
      // fd closed meanwhile
    }
  }
  return watches;
}

const RESYNC_INTERVAL_MS = 30 * 60_000;

/** Waits until the daemon used under 5% of a core over 2 s; when (ms after `since`) and its highest RSS meanwhile. */
async function settle(pid: number, since: number) {
  let peakSeen = { kb: 0, atMs: 0 }; // when the peak happens (VmHWM only says how high)
  for (let last = cpuMs(pid), quiet = 0; ;) {
    await new Promise((r) => setTimeout(r, 500));
    const rssKb = statusKb(pid, "VmRSS");
    if (rssKb > peakSeen.kb) peakSeen = { kb: rssKb, atMs: performance.now() - since };
    const now = cpuMs(pid);
    quiet = now - last < 25 ? quiet + 1 : 0;
    last = now;
    if (quiet >= 4) return { settledAt: performance.now() - since - 2000, peakSeen };
    if (performance.now() - since > 600_000) throw new Error("the daemon never settled");
  }
}

if (!FROM_SOURCE && !existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build first`);
const root = mkdtempSync(join(tmpdir(), "tfs-rollout-scale-"));
let emulator: Awaited<ReturnType<typeof spawnEmulator>["ready"]> | undefined;
let daemon: ReturnType<typeof spawn> | undefined;
let grpc: TfServingGrpcClient | undefined;
try {
  let t = performance.now();
  const configFile = buildStore(root);
  const buildMs = performance.now() - t;
  emulator = await spawnEmulator([
    "--port=0",
    "--listen_host=127.0.0.1",
    `--model_config_file=${configFile}`,
    "--allow_version_labels_for_unavailable_models=true",
    "--file_system_poll_wait_seconds=0",
  ]).ready;
  grpc = new TfServingGrpcClient({ address: `127.0.0.1:${emulator.ports.grpc_port}`, deadlineMs: 10_000 });
  const client = grpc;
  await waitFor(
    "the emulator to serve every model",
    async () => (await client.getModelStatus(`model_${MODELS - 1}`))[0]?.state === "AVAILABLE",
    120_000,
  );
  const daemonConfig = join(root, "daemon.yaml");
  // The resync (every 30 min by default) is measured on its own below: none may fall into the idle window.
  writeFileSync(daemonConfig, 'admission:\n  marker_file: _SUCCESS\nwatch:\n  resync_cron: "0 0 1 1 *"\n');
  t = performance.now();
  const child = spawn(
    process.execPath,
    [
      ...(process.env.SCALE_DAEMON_NODE_ARGS?.split(" ").filter(Boolean) ?? []),
      ...(FROM_SOURCE ? ["--import", "tsx", join(REPO, "src", "cli.ts")] : [CLI]),
      "daemon",
      "--config",
      daemonConfig,
      "--model-config-file",
      configFile,
      "--grpc",
      `127.0.0.1:${emulator.ports.grpc_port}`,
      "--state-dir",
      join(root, "state"),
    ],
    { stdio: ["ignore", "pipe", "inherit"] },
  );
  daemon = child;
  let readyAt: number | undefined;
  let onReload = (): void => undefined;
  const admitted = new Map<string, number>();
  const keepLog = process.env.SCALE_DAEMON_LOG;
  if (keepLog) writeFileSync(keepLog, "");
  createInterface({ input: child.stdout! }).on("line", (line) => {
    if (keepLog) appendFileSync(keepLog, `${line}\n`);
    const event = JSON.parse(line) as { msg?: string; step?: string; outcome?: string; model?: string };
    if (readyAt === undefined && /\bready\b/i.test(event.msg ?? "")) readyAt = performance.now() - t;
    if (/SIGHUP: daemon config reloaded/.test(event.msg ?? "")) onReload();
    if (event.step === "admit" && event.outcome === "ok" && event.model)
      admitted.set(event.model, performance.now());
  });
  const { settledAt, peakSeen } = await settle(child.pid!, t);
  const watches = inotifyWatches(child.pid!);
  const cpuBefore = cpuMs(child.pid!);
  const idleStart = performance.now();
  await new Promise((r) => setTimeout(r, IDLE_WINDOW_MS));
  const idleCpuPercent = ((cpuMs(child.pid!) - cpuBefore) / (performance.now() - idleStart)) * 100;
  const rssIdleKb = statusKb(child.pid!, "VmRSS");
  const target = `model_${Math.floor(MODELS / 2)}`;
  const staging = join(root, "models", target, `${VERSIONS + 1}.tmp`);
  writeSavedModel(staging, { signatures: HALF_PLUS_TWO, withVariables: true });
  writeFileSync(join(staging, "_SUCCESS"), "");
  const published = performance.now();
  renameSync(staging, join(root, "models", target, String(VERSIONS + 1)));
  await waitFor("the new version to be admitted", () => admitted.has(target), 60_000);
  const noticeMs = admitted.get(target)! - published;
  const peakRssKb = statusKb(child.pid!, "VmHWM");
  // The full resync's cost (every model reconciled, as `watch.resync_cron` does every 30 min): SIGHUP enqueues every
  // model the same way. Its CPU, spread over the default interval, is what the resync adds to the idle figure.
  const reloaded = new Promise<void>((resolve) => (onReload = resolve));
  const cpuBeforeResync = cpuMs(child.pid!);
  const resyncStart = performance.now();
  child.kill("SIGHUP");
  await reloaded;
  const resync = await settle(child.pid!, resyncStart);
  const resyncCpuMs = cpuMs(child.pid!) - cpuBeforeResync;
  const result = {
    models: MODELS,
    version_dirs: MODELS * VERSIONS,
    store_build_ms: Math.round(buildMs),
    start_to_ready_ms: readyAt === undefined ? null : Math.round(readyAt),
    start_to_settled_ms: Math.round(settledAt),
    rss_mb: Math.round(rssIdleKb / 1024),
    peak_rss_mb: Math.round(peakRssKb / 1024),
    peak_rss_sampled_at_ms: Math.round(peakSeen.atMs),
    inotify_watches: watches,
    idle_cpu_percent_of_core: Math.round(idleCpuPercent * 100) / 100,
    idle_window_ms: IDLE_WINDOW_MS,
    notice_new_version_ms: Math.round(noticeMs * 10) / 10,
    full_resync_ms: Math.round(resync.settledAt),
    full_resync_cpu_ms: Math.round(resyncCpuMs),
    idle_cpu_with_resync_percent_of_core:
      Math.round((idleCpuPercent + (resyncCpuMs / RESYNC_INTERVAL_MS) * 100) * 100) / 100,
  };
  console.log(`Scale: ${MODELS} models × ${VERSIONS} versions (+${MODELS} non-version entries)`);
  console.log(
    table(
      ["measure", "value", "target"],
      [
        [
          "start → ready",
          result.start_to_ready_ms === null ? "no ready event" : ms(result.start_to_ready_ms),
          "< 5 s",
        ],
        ["start → initial reconcile settled", ms(result.start_to_settled_ms), ""],
        [
          "resident memory (idle / peak)",
          `${result.rss_mb} / ${result.peak_rss_mb} MB (peak near ${ms(result.peak_rss_sampled_at_ms)})`,
          "< 150 MB",
        ],
        ["inotify watches", result.inotify_watches, "∝ models"],
        [
          `idle CPU over ${IDLE_WINDOW_MS / 1000} s`,
          `${result.idle_cpu_percent_of_core} % of a core`,
          "< 1 %",
        ],
        [
          "idle CPU with the full resync every 30 min",
          `${result.idle_cpu_with_resync_percent_of_core} % of a core (one resync: ${ms(result.full_resync_cpu_ms)} CPU in ${ms(result.full_resync_ms)})`,
          "< 1 %",
        ],
        ["notice one new version", ms(result.notice_new_version_ms), ""],
      ],
    ),
  );
  recordResult("scale", result);
} finally {
  if (daemon && daemon.exitCode === null) {
    const exited = new Promise((r) => daemon!.once("exit", r));
    daemon.kill("SIGTERM");
    await exited;
  }
  grpc?.close();
  await emulator?.stop();
  rmSync(root, { recursive: true, force: true });
}
