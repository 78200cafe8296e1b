// Rollout latency: time from `rename 2.tmp → 2` inside base_path to `stable` resolving to 2 (GetModelMetadata by
// label), with the emulator's load delay 0 and the daemon's admission quiet window QUIET (default 100ms). Real
// emulator and daemon processes in a temp dir, RUNS fresh worlds. Run: npx tsx bench/rollout.bench.ts [RUNS] [QUIET]
import { renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { writeSavedModel } from "../src/savedmodel/writer.js";
import { QUICK, recordResult } from "./lib.js";
import { HALF_PLUS_TWO, waitFor } from "../test/helpers/emulator-harness.js";
import {
  configState,
  daemonYaml,
  spawnDaemon,
  stableVersion,
  startWorld,
} from "../test/helpers/rollout-world.js";

const args = process.argv.slice(2).filter((a) => a !== "--quick");
const RUNS = QUICK ? 1 : Number(args[0] ?? 5);
const QUIET = args[1] ?? "100ms";

async function once(): Promise<number> {
  const world = await startWorld();
  writeFileSync(world.daemonConfig, daemonYaml().replace("quiet_window: 100ms", `quiet_window: ${QUIET}`));
  const daemon = spawnDaemon(world);
  try {
    await waitFor("adoption", () => configState(world).labels.stable === "1", 30_000);
    const staging = join(world.base, "2.tmp");
    writeSavedModel(staging, { signatures: HALF_PLUS_TWO, withVariables: true });
    const start = performance.now();
    renameSync(staging, join(world.base, "2"));
    for (;;) {
      if ((await stableVersion(world)) === "2") return performance.now() - start;
      if (performance.now() - start > 60_000) throw new Error("stable never moved to 2");
      await new Promise((r) => setTimeout(r, 5));
    }
  } finally {
    daemon.child.kill("SIGTERM");
    await daemon.exited;
    await world.cleanup();
  }
}

const times: number[] = [];
for (let i = 0; i < RUNS; i++) times.push(await once());
times.sort((a, b) => a - b);
const median = times[Math.floor(times.length / 2)]!;
console.log(
  `rename → stable (quiet window ${QUIET}, load delay 0): median ${median.toFixed(0)} ms over ${RUNS} runs ` +
    `[${times.map((t) => t.toFixed(0)).join(", ")}]`,
);
recordResult("rollout", { runs: RUNS, quiet_window: QUIET, load_delay_ms: 0, median_ms: Math.round(median) });
