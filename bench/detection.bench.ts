// Detection latency: a complete version directory renamed into base_path (the recommended publish) → the daemon's
// "admit" step event on stdout, in marker-file mode and in quiet-window mode (reported minus the window). Measured
// in the same run, on the same directory and the same publishes: the kernel's floor (`inotifywait -m`, and a bare
// fs.watch in this process) and a 1-second readdir poll (TF Serving's default --file_system_poll_wait_seconds).
// Each publish waits for the previous rollout to finish (its last pass included), so detection is measured on an
// idle daemon.
// Run: npx tsx bench/detection.bench.ts [--quick]   (full: 200 publishes per mode; quick: 5)
import { spawn } from "node:child_process";
import { existsSync, readdirSync, renameSync, watch, writeFileSync } from "node:fs";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { createInterface } from "node:readline";
import { writeSavedModel } from "../src/savedmodel/writer.js";
import { modelLockName } from "../src/state/locks.js";
import { HALF_PLUS_TWO, waitFor } from "../test/helpers/emulator-harness.js";
import { configState, spawnDaemon, stableVersion, startWorld } from "../test/helpers/rollout-world.js";
import { distribution, ms, QUICK, recordResult, table, type Distribution } from "./lib.js";

const PUBLISHES = QUICK ? 5 : Number(process.env.BENCH_PUBLISHES ?? 200);
const QUIET_WINDOW_MS = 200;

interface ModeResult {
  daemon: Distribution;
  inotifywait?: Distribution;
  fs_watch: Distribution;
  poll_1s: Distribution;
}

async function runMode(mode: "marker" | "quiet"): Promise<ModeResult> {
  const world = await startWorld();
  const admission =
    mode === "marker"
      ? ["admission:", "  marker_file: _SUCCESS"]
      : ["admission:", `  quiet_window: ${QUIET_WINDOW_MS}ms`];
  writeFileSync(
    world.daemonConfig,
    [...admission, "watch:", '  rescan_cron: "0 0 * * *"', "rollout:", "  load_deadline: 30s"].join("\n"),
  );
  const published = new Map<string, number>();
  const seen = { daemon: new Map<string, number>(), inotify: new Map<string, number>() };
  const fsWatch = new Map<string, number>();
  const poll = new Map<string, number>();
  const note = (into: Map<string, number>, name: string) => {
    if (!into.has(name) && /^\d+$/.test(name)) into.set(name, performance.now());
  };

  const watcher = watch(world.base, (_event, name) => name && note(fsWatch, name.toString()));
  const poller = setInterval(() => {
    for (const name of readdirSync(world.base)) note(poll, name);
  }, 1000);
  const inotify = spawn("inotifywait", ["-m", "-q", "-e", "moved_to,create", "--format", "%f", world.base], {
    stdio: ["ignore", "pipe", "ignore"],
  });
  inotify.on("error", () => undefined); // absent tool: the floor column says so
  if (inotify.stdout) createInterface({ input: inotify.stdout }).on("line", (l) => note(seen.inotify, l));

  const daemon = spawnDaemon(world);
  const modelLock = join(world.stateDir, "locks", `${modelLockName("m")}.lock`);
  const admitted = new Map<string, () => void>();
  let lastLine = performance.now();
  createInterface({ input: daemon.child.stdout! }).on("line", (line) => {
    lastLine = performance.now();
    const event = JSON.parse(line) as { step?: string; outcome?: string; version?: string };
    if (event.step === "admit" && event.outcome === "ok" && event.version) {
      note(seen.daemon, event.version);
      admitted.get(event.version)?.();
    }
  });
  try {
    await waitFor("adoption", () => configState(world).labels.stable === "1", 30_000);
    for (let i = 0; i < PUBLISHES; i++) {
      const version = String(i + 2);
      const staging = join(world.base, `${version}.tmp`);
      writeSavedModel(staging, { signatures: HALF_PLUS_TWO, withVariables: true });
      if (mode === "marker") writeFileSync(join(staging, "_SUCCESS"), "");
      const done = new Promise<void>((resolve) => admitted.set(version, resolve));
      published.set(version, performance.now());
      renameSync(staging, join(world.base, version));
      await Promise.race([
        done,
        new Promise((_, reject) => setTimeout(() => reject(new Error(`${version} never admitted`)), 30_000)),
      ]);
      await waitFor(`stable ${version}`, async () => (await stableVersion(world)) === version, 30_000);
      // Idle: no line for a while and no pass running (the model lock is held until a pass has written the
      // verdict store, which happens after the step's event).
      await waitFor(
        "daemon idle",
        () => performance.now() - lastLine > 150 && !existsSync(modelLock),
        30_000,
      );
    }
    await new Promise((r) => setTimeout(r, 1100)); // the poll loop's last tick
  } finally {
    clearInterval(poller);
    watcher.close();
    inotify.kill();
    daemon.child.kill("SIGTERM");
    await daemon.exited;
    await world.cleanup();
  }
  const latencies = (from: Map<string, number>, minus = 0) =>
    [...published].flatMap(([v, t]) => (from.has(v) ? [from.get(v)! - t - minus] : []));
  const result: ModeResult = {
    daemon: distribution(latencies(seen.daemon, mode === "quiet" ? QUIET_WINDOW_MS : 0)),
    fs_watch: distribution(latencies(fsWatch)),
    poll_1s: distribution(latencies(poll)),
  };
  if (seen.inotify.size > 0) result.inotifywait = distribution(latencies(seen.inotify));
  return result;
}

const marker = await runMode("marker");
const quiet = await runMode("quiet");
const rows = (label: string, r: ModeResult) =>
  (
    [
      [`daemon admit (${label})`, r.daemon],
      ["inotifywait (floor)", r.inotifywait],
      ["fs.watch (floor)", r.fs_watch],
      ["1 s poll", r.poll_1s],
    ] as const
  ).map(([name, d]) => (d ? [name, d.n, ms(d.p50), ms(d.p99), ms(d.max)] : [name, "-", "absent", "", ""]));
console.log(`Detection latency, rename → event (${PUBLISHES} publishes per mode)`);
console.log(
  table(
    ["", "n", "p50", "p99", "max"],
    [...rows("marker file", marker), ...rows(`quiet window, minus ${QUIET_WINDOW_MS} ms`, quiet)],
  ),
);
const floor = marker.inotifywait ?? marker.fs_watch;
const verdict = {
  marker_p99_minus_floor_ms: Math.round((marker.daemon.p99 - floor.p99) * 100) / 100,
  poll_over_marker_p99: Math.round((marker.poll_1s.p99 / marker.daemon.p99) * 10) / 10,
};
console.log(
  `marker mode: p99 ${verdict.marker_p99_minus_floor_ms} ms above the floor (target ≤ 25), ` +
    `1 s poll is ${verdict.poll_over_marker_p99}x slower at p99 (target ≥ 40x)`,
);
recordResult("detection", {
  publishes: PUBLISHES,
  quiet_window_ms: QUIET_WINDOW_MS,
  marker,
  quiet,
  ...verdict,
});
