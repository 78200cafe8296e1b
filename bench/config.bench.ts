// models.config speed on a generated 1,000-model file: parse, print, edit one model (including the editor's own
// re-parse check), validate (rules only, and with the file-system checks on real directories), atomically write.
// Everything lives in a temp dir removed afterwards. Run: npm run bench:config
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { writeFileAtomic, writeModelServerConfig } from "../src/modelconfig/atomic-write.js";
import { editModelConfig } from "../src/modelconfig/edit.js";
import { parseModelServerConfigBytes } from "../src/modelconfig/load.js";
import { messageType } from "../src/proto/registry.js";
import { printTextFormat } from "../src/textformat/print.js";
import { localBasePathProbe, validateModelServerConfig, validateRules } from "../src/modelconfig/validate.js";
import { parseTextFormat } from "../src/textformat/parse.js";
import { QUICK, recordResult } from "./lib.js";

const MODELS = 1000;
const RUNS = QUICK ? 3 : 20;

function generate(root: string): string {
  const models: string[] = [];
  for (let i = 0; i < MODELS; i++) {
    const base = join(root, "models", `model_${i}`);
    mkdirSync(join(base, "1"), { recursive: true });
    mkdirSync(join(base, "2"));
    models.push(`  config {
    name: "model_${i}"
    base_path: "${base}"
    model_platform: "tensorflow"
    model_version_policy {
      specific {
        versions: 1
        versions: 2
      }
    }
    version_labels {
      key: "stable"
      value: 1
    }
    version_labels {
      key: "canary"
      value: 2
    }
  }
`);
  }
  return `# generated: ${MODELS} models\nmodel_config_list {\n${models.join("")}}\n`;
}

const medians: Record<string, number> = {};

async function time(name: string, run: () => unknown): Promise<string> {
  const samples: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const start = performance.now();
    await run();
    samples.push(performance.now() - start);
  }
  samples.sort((a, b) => a - b);
  medians[name] = Math.round(samples[Math.floor(RUNS / 2)]! * 100) / 100;
  const ms = (v: number) => v.toFixed(2).padStart(8);
  return `median ${ms(samples[Math.floor(RUNS / 2)]!)} ms   min ${ms(samples[0]!)}   max ${ms(samples[RUNS - 1]!)}`;
}

const root = mkdtempSync(join(tmpdir(), "bench-config-"));
try {
  const text = generate(root);
  const bytes = Buffer.from(text);
  const target = join(root, "models.config");
  const { message } = parseModelServerConfigBytes(bytes, target);
  const edit = () =>
    editModelConfig(text, target, "model_500", {
      policy: { specific: { versions: ["2", "3"] } },
      labels: { stable: "2", canary: "3" },
    });
  const edited = edit();
  const rows: [string, () => unknown][] = [
    ["parse", () => parseTextFormat(text, messageType("tensorflow.serving.ModelServerConfig"), target)],
    [
      "re-read unchanged bytes (last parse reused, deep copy)",
      () => parseModelServerConfigBytes(bytes, target),
    ],
    ["print", () => printTextFormat(message, messageType("tensorflow.serving.ModelServerConfig"))],
    ["edit one model (policy + labels)", edit],
    [
      "edit with no change (returns the input)",
      () => editModelConfig(text, target, "model_999", { policy: { specific: { versions: ["1", "2"] } } }),
    ],
    ["validate (rules only)", () => validateRules(message)],
    [
      "validate (+ 1,000 base path listings)",
      () => validateModelServerConfig(message, { probe: localBasePathProbe }),
    ],
    ["atomic write (temp, fsync, rename, dir fsync)", () => writeFileAtomic(target, edited)],
    ["writeModelServerConfig (parse + atomic write)", () => writeModelServerConfig(target, edited)],
    [
      "end to end (parse, edit, validate rules, write)",
      async () => {
        parseModelServerConfigBytes(bytes, target);
        const next = edit();
        validateRules(parseModelServerConfigBytes(Buffer.from(next), target).message);
        await writeFileAtomic(target, next);
      },
    ],
  ];
  console.log(
    `models.config with ${MODELS} models, ${(bytes.length / 1024).toFixed(0)} KiB; ${RUNS} runs each`,
  );
  for (const [name, run] of rows) console.log(`${name.padEnd(56)} ${await time(name, run)}`);
  recordResult("config", { models: MODELS, bytes: bytes.length, runs: RUNS, median_ms: medians });
} finally {
  rmSync(root, { recursive: true, force: true });
}
