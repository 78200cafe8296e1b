// A saved_model.pb of several hundred MB (issue 9): a 300 MiB graph_def, written streaming (src/savedmodel/writer.ts
// GraphDefStream, never held in memory), goes through admission (fingerprint, completeness), `tfs-rollout inspect`
// and a rollout against the emulator. The project's reader walks the file by positional reads and skips graph_def
// by its length, so neither the CLI nor the daemon should need memory in proportion to the file: both peaks are
// measured (VmHWM / GNU time's max RSS) and printed, and held to a generous bound (2x the file + 200 MB).
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, renameSync, statSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { checkCompleteness } from "../../src/admission/completeness.js";
import { entryOf } from "../../src/admission/fingerprint.js";
import { lengthDelimitedHeader } from "../../src/savedmodel/proto-wire.js";
import { writeSavedModel, type GraphDefStream } from "../../src/savedmodel/writer.js";
import { HALF_PLUS_TWO, REPO } from "../helpers/emulator-harness.js";
import { startFaultWorld } from "./fault-world.js";
import { tally } from "./tally.js";

const MiB = 1024 * 1024;
const GRAPH_BYTES = 300 * MiB;
const BOUND_BYTES = 2 * GRAPH_BYTES + 200 * MiB;

/**
 * A wire-valid GraphDef of `total` bytes or a little more: `node` entries (field 1), each a NodeDef with a name,
 * op `Const` and a 1 MiB `device` string (field 4) as ballast. One 1 MiB buffer is reused for every node.
 */
function largeGraphDef(total: number): GraphDefStream {
  const ballast = Buffer.alloc(MiB, "x");
  const node = (i: number) => {
    const name = Buffer.from(`const_${String(i).padStart(6, "0")}`);
    const head = Buffer.concat([
      lengthDelimitedHeader(1, name.length),
      name,
      lengthDelimitedHeader(2, 5),
      Buffer.from("Const"),
      lengthDelimitedHeader(4, ballast.length),
    ]);
    return [lengthDelimitedHeader(1, head.length + ballast.length), head];
  };
  const nodeBytes = node(0).reduce((sum, b) => sum + b.length, 0) + ballast.length;
  const count = Math.ceil(total / nodeBytes);
  return {
    length: count * nodeBytes,
    *chunks() {
      for (let i = 0; i < count; i++) yield* [...node(i), ballast];
    },
  };
}

/** Peak resident set of a live process (Linux /proc), in bytes. */
function peakRss(pid: number): number {
  const kb = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1];
  assert.ok(kb, `VmHWM of ${pid}`);
  return Number(kb) * 1024;
}

const mb = (bytes: number) => `${(bytes / MiB).toFixed(0)} MiB`;

test(
  "a 300 MiB saved_model.pb: admitted, inspected and rolled out with memory bounded well below the file size",
  {
    skip:
      existsSync("/proc/self/status") && existsSync("/usr/bin/time")
        ? false
        : "needs Linux /proc and GNU time",
  },
  async (t) => {
    const fw = await startFaultWorld(t);
    const { world } = fw;
    const staging = join(world.base, "2.tmp");
    writeSavedModel(staging, {
      signatures: HALF_PLUS_TWO,
      withVariables: true,
      graphDefBytes: largeGraphDef(GRAPH_BYTES),
    });
    const pbBytes = statSync(join(staging, "saved_model.pb")).size;
    assert.ok(pbBytes > GRAPH_BYTES, `saved_model.pb is ${pbBytes} bytes`);
    const admission = await checkCompleteness(staging);
    assert.deepEqual(admission.reasons, []);
    assert.equal(entryOf(admission.fingerprint, "saved_model.pb")?.size, pbBytes);

    const inspect = spawnSync(
      "/usr/bin/time",
      [
        "-f",
        "max_rss_kb=%M",
        process.execPath,
        "--import",
        "tsx",
        "src/cli.ts",
        "inspect",
        staging,
        "--json",
      ],
      { cwd: REPO, encoding: "utf8" },
    );
    assert.equal(inspect.status, 0, inspect.stderr);
    assert.match(inspect.stdout, /serving_default/);
    const inspectRss = Number(/max_rss_kb=(\d+)/.exec(inspect.stderr)?.[1]) * 1024;

    renameSync(staging, join(world.base, "2"));
    fw.guard.protect("m", "2");
    await fw.waitStable("2", "with a 300 MiB saved_model.pb");
    const daemonRss = peakRss(fw.daemon.child.pid!);
    const line = `saved_model.pb ${mb(pbBytes)}: peak RSS inspect ${mb(inspectRss)}, daemon ${mb(daemonRss)} (bound ${mb(BOUND_BYTES)})`;
    t.diagnostic(line);
    console.error(line);
    assert.ok(inspectRss < BOUND_BYTES, line);
    assert.ok(daemonRss < BOUND_BYTES, line);
    // Measured: about 120-140 MiB each, the process's own footprint; never the file's size.
    assert.ok(Math.max(inspectRss, daemonRss) < pbBytes, `${line}: proportional to the file?`);
    await fw.survived("a 300 MiB saved_model.pb rolled out");
    tally("bad_inputs", "a 300 MiB saved_model.pb (admission, inspect, rollout)");
  },
);
