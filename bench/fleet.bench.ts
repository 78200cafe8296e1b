// Fleet (issue 11): time from `rename` of a new version into the shared base_path to `stable` resolving to it on
// EVERY replica (GetModelMetadata by label on each replica's TF Serving), for 3 and 10 replicas and max_loading 1
// and 3, against one daemon with fleet mode off measured in the same run (same daemon.yaml otherwise: quiet window
// 100ms, emulator load delay 0). Then one version with a 500 ms load delay per world: the peak number of replicas
// holding a load slot at once (etcd slots/<model>/*, read on every etcd change) and the peak number whose TF Serving
// shows the version LOADING at once (status sampled every 20 ms). Real processes: a 3-member etcd cluster, one
// emulator and one daemon (the built dist/src/cli.js) per replica, one shared model directory (test/helpers/
// fleet-world.ts). Run: npm run bench:fleet   (quick: 3 replicas, max_loading 1, one publish; BENCH_FROM_SOURCE=1
// runs src/cli.ts through tsx instead of the build).
import { existsSync, mkdirSync, renameSync } from "node:fs";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { REPO, waitFor } from "../test/helpers/emulator-harness.js";
import { etcdSkip } from "../test/helpers/etcd-cluster.js";
import { peakLoading, startFleetWorld, waitFleet, type FleetWorld } from "../test/helpers/fleet-world.js";
import {
  publish,
  spawnDaemon,
  stableVersion,
  startWorld,
  type World,
} from "../test/helpers/rollout-world.js";
import { ms, QUICK, recordResult, table } from "./lib.js";

const CLI = join(REPO, "dist", "src", "cli.js");
const FROM_SOURCE = process.env.BENCH_FROM_SOURCE === "1";
const cli = FROM_SOURCE ? undefined : CLI;
/** Publishes with load delay 0 per world (the promote time is their median). */
const ROUNDS = QUICK ? 1 : 3;
const LOAD_DELAY_MS = 500;
/** For profiling: FLEET_SHAPES="10x1,10x3" (replicas x max_loading) runs only those, and records nothing. */
const ONLY = process.env.FLEET_SHAPES?.split(",").map((shape) => {
  const [replicas, maxLoading] = shape.split("x").map(Number);
  if (!Number.isInteger(replicas) || !Number.isInteger(maxLoading) || replicas! < 1 || maxLoading! < 1)
    throw new Error(`FLEET_SHAPES: "${shape}" is not <replicas>x<max_loading>, e.g. 10x3`);
  return { replicas: replicas!, maxLoading: maxLoading! };
});
const SHAPES = ONLY
  ? ONLY
  : QUICK
    ? [{ replicas: 3, maxLoading: 1 }]
    : [
        { replicas: 3, maxLoading: 1 },
        { replicas: 3, maxLoading: 3 },
        { replicas: 10, maxLoading: 1 },
        { replicas: 10, maxLoading: 3 },
      ];
const DEADLINE_MS = 180_000;
/** FLEET_BENCH_TRACE=1 prints every replica's steps of each round (ms after the rename), to see where time goes. */
const TRACE = process.env.FLEET_BENCH_TRACE === "1";

function trace(world: FleetWorld, since: number): void {
  for (const replica of world.replicas) {
    const steps = (replica.daemon?.events() ?? [])
      .filter((e) => typeof e.time === "number" && e.time >= since && e.step !== undefined)
      .map(
        (e) => `+${Number(e.time) - since} ${String(e.step)} ${String(e.outcome)} ${String(e.reason ?? "")}`,
      );
    console.log(`--- ${replica.id}\n${steps.join("\n")}`);
  }
}

/** Cleanups registered the way node:test's `t.after` takes them, run last-first. */
class Cleanups {
  private readonly fns: (() => Promise<void> | void)[] = [];
  after(fn: () => Promise<void> | void): void {
    this.fns.push(fn);
  }
  async run(): Promise<void> {
    for (const fn of this.fns.reverse()) await fn();
    this.fns.length = 0;
  }
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const sleep = (msec: number) => new Promise((resolve) => setTimeout(resolve, msec));

/**
 * Writes version `name` outside the store, renames it into `base` (the clock starts there), and returns each
 * replica's time until its `stable` resolves to it (ms, as first seen by polling every 10 ms).
 */
async function promoteTimes(
  scratch: string,
  base: string,
  replicas: World[],
  name: string,
  behaviour?: Record<string, unknown>,
): Promise<number[]> {
  const staged = publish(scratch, name, behaviour);
  const start = performance.now();
  renameSync(staged, join(base, name));
  const reached: (number | undefined)[] = replicas.map(() => undefined);
  while (reached.some((r) => r === undefined)) {
    await Promise.all(
      replicas.map(async (replica, i) => {
        if (reached[i] === undefined && (await stableVersion(replica)) === name)
          reached[i] = performance.now() - start;
      }),
    );
    if (performance.now() - start > DEADLINE_MS)
      throw new Error(`stable never moved to ${name} on every replica: ${JSON.stringify(reached)}`);
    await sleep(10);
  }
  return reached as number[];
}

/** One daemon, fleet mode off: ROUNDS publishes with load delay 0, then one with LOAD_DELAY_MS. */
async function single(): Promise<{ runs: number[]; delayed: number }> {
  const world = await startWorld();
  const daemon = spawnDaemon(world, [], {}, cli);
  try {
    await waitFor("adoption", async () => (await stableVersion(world)) === "1", 60_000);
    const scratch = join(world.root, "scratch");
    mkdirSync(scratch);
    const runs: number[] = [];
    for (let round = 0; round < ROUNDS; round++)
      runs.push((await promoteTimes(scratch, world.base, [world], String(round + 2)))[0]!);
    const delayed = (
      await promoteTimes(scratch, world.base, [world], String(ROUNDS + 2), { load_delay_ms: LOAD_DELAY_MS })
    )[0]!;
    return { runs, delayed };
  } finally {
    daemon.child.kill("SIGTERM");
    await daemon.exited;
    await world.cleanup();
  }
}

/** Waits until every replica reported `promoted` on `version` and gave its load slot back. */
function settled(world: FleetWorld, version: string): Promise<unknown> {
  return waitFleet(
    world,
    `every replica done with ${version}`,
    async () => {
      const rollout = (await world.observer.rollouts("m")).find((r) => r.version === version);
      const promoted = Object.values(rollout?.reports ?? {}).filter((r) => r.phase === "promoted").length;
      return promoted === world.replicas.length && (await world.observer.loadSlots("m")).length === 0;
    },
    DEADLINE_MS,
  );
}

interface ShapeResult {
  replicas: number;
  max_loading: number;
  /** Median over ROUNDS of the time until the LAST replica's stable moved. */
  promote_ms: number;
  first_replica_ms: number;
  runs_ms: number[];
  over_single: number;
  delayed_promote_ms: number;
  peak_slots_held: number;
  peak_loading_seen: number;
}

async function fleet(
  shape: { replicas: number; maxLoading: number },
  singleMs: number,
): Promise<ShapeResult> {
  const cleanups = new Cleanups();
  try {
    const world = await startFleetWorld(cleanups, {
      replicas: shape.replicas,
      maxLoading: shape.maxLoading,
      cli,
    });
    await waitFleet(
      world,
      "every replica ready on 1",
      async () => {
        const members = await world.observer.members();
        const stables = await world.stables();
        return (
          members.length === shape.replicas &&
          members.every((m) => m.ready) &&
          stables.every((s) => s === "1")
        );
      },
      DEADLINE_MS,
    );
    const scratch = join(world.root, "scratch");
    mkdirSync(scratch);
    const last: number[] = [];
    const first: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const version = String(round + 2);
      const publishedAt = Date.now();
      const times = await promoteTimes(scratch, world.base, world.replicas, version);
      if (TRACE) trace(world, publishedAt);
      last.push(Math.max(...times));
      first.push(Math.min(...times));
      await settled(world, version);
    }

    // Slow loads, so that overlapping loads would show: slots from etcd, LOADING from each TF Serving.
    let peakSlots = 0;
    const watcher = await world.observer.watch(() => {
      void world.observer
        .loadSlots("m")
        .then((slots) => (peakSlots = Math.max(peakSlots, slots.length)))
        .catch(() => undefined);
    });
    const delayed = promoteTimes(scratch, world.base, world.replicas, String(ROUNDS + 2), {
      load_delay_ms: LOAD_DELAY_MS,
    });
    const peakLoadingSeen = await peakLoading(world, delayed);
    const delayedTimes = await delayed;
    await settled(world, String(ROUNDS + 2));
    await watcher.close();

    const promoteMs = median(last);
    return {
      replicas: shape.replicas,
      max_loading: shape.maxLoading,
      promote_ms: Math.round(promoteMs),
      first_replica_ms: Math.round(median(first)),
      runs_ms: last.map(Math.round),
      over_single: Math.round((promoteMs / singleMs) * 100) / 100,
      delayed_promote_ms: Math.round(Math.max(...delayedTimes)),
      peak_slots_held: peakSlots,
      peak_loading_seen: peakLoadingSeen,
    };
  } finally {
    await cleanups.run();
  }
}

// Without etcd there is no fleet: say so and stop (under CI=true a missing etcd is an error).
const noEtcd = etcdSkip();
if (noEtcd) {
  console.log(`fleet bench skipped: ${noEtcd}`);
  process.exit(0);
}
if (!FROM_SOURCE && !existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build first`);
const base = await single();
const singleMs = median(base.runs);
console.log(
  `single daemon: rename → stable median ${ms(singleMs)} [${base.runs.map((t) => t.toFixed(0)).join(", ")}], ` +
    `with load delay ${LOAD_DELAY_MS} ms: ${ms(base.delayed)}`,
);
const shapes: ShapeResult[] = [];
for (const shape of SHAPES) {
  const result = await fleet(shape, singleMs);
  console.log(`${shape.replicas} replicas, max_loading ${shape.maxLoading}: ${JSON.stringify(result)}`);
  shapes.push(result);
}
console.log(
  `\nFleet: rename → stable on every replica (load delay 0, median of ${ROUNDS}); load delay ${LOAD_DELAY_MS} ms`,
);
console.log(
  table(
    [
      "replicas",
      "max_loading",
      "promote (last / first)",
      "× single",
      `promote, ${LOAD_DELAY_MS} ms load`,
      "peak slots",
      "peak LOADING",
    ],
    [
      ["1 (fleet off)", "-", ms(singleMs), "1", ms(base.delayed), "-", "-"],
      ...shapes.map((s) => [
        s.replicas,
        s.max_loading,
        `${ms(s.promote_ms)} / ${ms(s.first_replica_ms)}`,
        s.over_single,
        ms(s.delayed_promote_ms),
        s.peak_slots_held,
        s.peak_loading_seen,
      ]),
    ],
  ),
);
if (!ONLY)
  recordResult("fleet", {
    rounds: ROUNDS,
    quiet_window: "100ms",
    load_delay_ms: LOAD_DELAY_MS,
    etcd_members: 3,
    single: {
      promote_ms: Math.round(singleMs),
      runs_ms: base.runs.map(Math.round),
      delayed_promote_ms: Math.round(base.delayed),
    },
    // Keyed so that bench/run.ts's summary can name one: r<replicas>_k<max_loading>.
    shapes: Object.fromEntries(shapes.map((s) => [`r${s.replicas}_k${s.max_loading}`, s])),
  });
