// Inspect speed on big inputs: a 200 MB saved_model.pb (one real signature + a 200 MB graph_def blob) and a
// 1,000-record warmup file. Everything is generated in a temp dir and removed afterwards. Run: npm run bench:inspect
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { readSavedModel } from "../src/savedmodel/reader.js";
import { writeSavedModel } from "../src/savedmodel/writer.js";
import { readWarmupFile, WARMUP_FILE } from "../src/warmup/reader.js";
import { writeWarmupFile } from "../src/warmup/writer.js";
import { recordResult } from "./lib.js";

const QUICK = process.argv.includes("--quick");
const GRAPH_DEF_BYTES = (QUICK ? 20 : 200) * 1024 * 1024;
const WARMUP_RECORDS = 1000;
const RUNS = QUICK ? 2 : 5;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

function time(run: () => void): { median: number; min: number; max: number } {
  const samples: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const start = performance.now();
    run();
    samples.push(performance.now() - start);
  }
  return { median: median(samples), min: Math.min(...samples), max: Math.max(...samples) };
}

const mb = (bytes: number) => (bytes / 1024 / 1024).toFixed(1);

/** Generates the inputs; the 200 MB blob lives only in this process. */
function generate(dir: string): void {
  writeSavedModel(dir, {
    signatures: {
      serving_default: {
        method: "tensorflow/serving/predict",
        inputs: { x: { dtype: "DT_FLOAT", shape: [-1, 224, 224, 3], name: "x:0" } },
        outputs: { y: { dtype: "DT_FLOAT", shape: [-1, 1000], name: "y:0" } },
      },
    },
    graphDefBytes: Buffer.alloc(GRAPH_DEF_BYTES, 0x5a),
  });
  const request = {
    model_spec: { name: "bench", signature_name: "serving_default" },
    inputs: {
      x: {
        dtype: "DT_FLOAT",
        tensor_shape: { dim: [{ size: "1" }, { size: "64" }] },
        float_val: Array.from({ length: 64 }, (_, i) => i / 2),
      },
    },
  };
  writeWarmupFile(
    join(dir, WARMUP_FILE),
    Array.from({ length: WARMUP_RECORDS }, () => request),
  );
}

/** VmHWM of this process (Linux); getrusage's maxRSS would carry the parent's peak over across exec. */
function peakRss(): string {
  try {
    const line = readFileSync("/proc/self/status", "utf8").match(/^VmHWM:\s+(\d+) kB/m);
    if (line) return `${mb(Number(line[1]) * 1024)} MB`;
  } catch {
    // not Linux: fall through
  }
  return `${mb(process.resourceUsage().maxRSS * 1024)} MB (maxRSS)`;
}

/** Times the readers in a fresh process so its peak RSS is the inspection's own. */
function measure(dir: string): void {
  const savedModel = time(() => {
    const model = readSavedModel(dir);
    if (!model.signatures.serving_default) throw new Error("signature missing");
  });
  const warmup = time(() => {
    const summary = readWarmupFile(join(dir, WARMUP_FILE));
    if (summary.predict !== WARMUP_RECORDS) throw new Error("wrong record count");
  });
  const pbBytes = statSync(join(dir, "saved_model.pb")).size;
  const warmupBytes = statSync(join(dir, WARMUP_FILE)).size;
  const row = (name: string, bytes: number, t: ReturnType<typeof time>) =>
    `| ${name} | ${mb(bytes)} MB | ${t.median.toFixed(2)} | ${t.min.toFixed(2)} | ${t.max.toFixed(2)} |`;
  console.log(`inspect benchmark (${RUNS} runs each, node ${process.version})`);
  console.log("| input | size | median ms | min ms | max ms |");
  console.log("|---|---|---|---|---|");
  console.log(row(`saved_model.pb (${mb(GRAPH_DEF_BYTES)} MB graph_def)`, pbBytes, savedModel));
  recordResult("inspect", {
    saved_model_pb_bytes: pbBytes,
    saved_model_median_ms: Math.round(savedModel.median * 100) / 100,
    warmup_records: WARMUP_RECORDS,
    warmup_median_ms: Math.round(warmup.median * 100) / 100,
    peak_rss: peakRss(),
  });
  console.log(row(`warmup, ${WARMUP_RECORDS} predict records`, warmupBytes, warmup));
  console.log(
    `peak RSS of the inspecting process: ${peakRss()} (current ${mb(process.memoryUsage().rss)} MB)`,
  );
}

if (process.argv[2] === "--measure") {
  measure(process.argv[3]!);
} else {
  const dir = mkdtempSync(join(tmpdir(), "inspect-bench-"));
  try {
    generate(dir);
    const child = spawnSync(
      process.execPath,
      [...process.execArgv, fileURLToPath(import.meta.url), "--measure", dir, ...(QUICK ? ["--quick"] : [])],
      { stdio: "inherit" },
    );
    if (child.status !== 0) process.exitCode = 1;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
