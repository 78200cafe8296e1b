// `npm run bench`: every benchmark in turn, each in a fresh process, then one summary table of the headline numbers
// from bench/results.json (written by the benches; see docs/benchmarks.md for the method). With --quick every
// bench runs a small version (a few minutes in all, nothing recorded): `.ci/run` runs that so the code cannot rot.
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { REPO } from "../test/helpers/emulator-harness.js";
import { QUICK, RESULTS_FILE, table } from "./lib.js";

const BENCHES = ["inspect", "config", "rollout", "detection", "throughput", "scale", "fleet"];

const failed: string[] = [];
for (const name of BENCHES) {
  console.log(`\n=== ${name}${QUICK ? " (quick)" : ""} ===`);
  const child = spawnSync(
    process.execPath,
    ["--import", "tsx", join(REPO, "bench", `${name}.bench.ts`), ...(QUICK ? ["--quick"] : [])],
    { stdio: "inherit", cwd: REPO, env: QUICK ? { ...process.env, BENCH_FROM_SOURCE: "1" } : process.env },
  );
  if (child.status !== 0) failed.push(name);
}

if (!QUICK && existsSync(RESULTS_FILE)) {
  const r = JSON.parse(readFileSync(RESULTS_FILE, "utf8")) as Record<string, Record<string, unknown>>;
  const get = (bench: string, path: string): string => {
    let v: unknown = r[bench];
    for (const key of path.split(".")) v = (v as Record<string, unknown> | undefined)?.[key];
    return v === undefined || v === null ? "-" : String(v);
  };
  console.log("\n=== summary (bench/results.json) ===");
  console.log(
    table(
      ["measure", "value", "target"],
      [
        ["detection p99, marker mode (ms)", get("detection", "marker.daemon.p99"), ""],
        ["  … above the inotifywait floor (ms)", get("detection", "marker_p99_minus_floor_ms"), "≤ 25"],
        ["  1 s poll p99 / daemon p99", get("detection", "poll_over_marker_p99"), "≥ 40"],
        ["detection p99, quiet window minus window (ms)", get("detection", "quiet.daemon.p99"), ""],
        ["scale: start → ready (ms)", get("scale", "start_to_ready_ms"), "< 5000"],
        ["scale: resident memory (MB)", get("scale", "rss_mb"), "< 150"],
        ["scale: inotify watches (1,000 models)", get("scale", "inotify_watches"), "∝ models"],
        ["scale: idle CPU (% of a core)", get("scale", "idle_cpu_percent_of_core"), "< 1"],
        ["throughput: all promoted / floor", get("throughput", "ratio_to_floor"), "≤ 2"],
        ["throughput: reload RPCs per model", get("throughput", "reloads_per_model"), "≪ 2"],
        [
          "config: end to end, 1,000 models (ms)",
          get("config", "median_ms.end to end (parse, edit, validate rules, write)"),
          "",
        ],
        ["inspect: 200 MB saved_model.pb (ms)", get("inspect", "saved_model_median_ms"), ""],
        ["rollout: rename → stable, load delay 0 (ms)", get("rollout", "median_ms"), ""],
        ["fleet: 1 daemon, fleet off, rename → stable (ms)", get("fleet", "single.promote_ms"), ""],
        ["fleet: 3 replicas, max_loading 1 (ms)", get("fleet", "shapes.r3_k1.promote_ms"), ""],
        ["fleet: 10 replicas, max_loading 1 (ms)", get("fleet", "shapes.r10_k1.promote_ms"), ""],
        ["fleet: 10 replicas, max_loading 3 (ms)", get("fleet", "shapes.r10_k3.promote_ms"), ""],
        [
          "fleet: peak loading, 10 replicas, max_loading 3",
          get("fleet", "shapes.r10_k3.peak_slots_held"),
          "≤ 3",
        ],
      ],
    ),
  );
}
if (failed.length > 0) {
  console.error(`\nfailed: ${failed.join(", ")}`);
  process.exitCode = 1;
}
