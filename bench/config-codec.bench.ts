// models.config codec speed on a generated 1,000-model file: parse, print, and edit one model (the edit includes
// its own re-parse check). Pure in-memory; no files. Run: npm run bench:config
import { performance } from "node:perf_hooks";
import { editModelConfig } from "../src/modelconfig/edit.js";
import { messageType } from "../src/proto/registry.js";
import { parseTextFormat } from "../src/textformat/parse.js";
import { printTextFormat } from "../src/textformat/print.js";

const MODELS = 1000;
const RUNS = 30;

function generate(): string {
  let text = "# generated\nmodel_config_list {\n";
  for (let i = 0; i < MODELS; i++) {
    text += `  config {
    name: "model_${i}"
    base_path: "/models/model_${i}"  # comment
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
`;
  }
  return `${text}}\n`;
}

function measure(name: string, run: () => unknown): void {
  run(); // warm-up
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const start = performance.now();
    run();
    times.push(performance.now() - start);
  }
  times.sort((a, b) => a - b);
  const median = times[Math.floor(times.length / 2)] as number;
  const p90 = times[Math.floor(times.length * 0.9)] as number;
  console.log(`${name.padEnd(44)} median ${median.toFixed(2)} ms   p90 ${p90.toFixed(2)} ms`);
}

const type = messageType("tensorflow.serving.ModelServerConfig");
const text = generate();
console.log(`${MODELS} models, ${(text.length / 1024).toFixed(0)} KiB, ${RUNS} runs each`);
const message = parseTextFormat(text, type, "bench");
measure("parseTextFormat", () => parseTextFormat(text, type, "bench"));
measure("printTextFormat", () => printTextFormat(message, type));
const change = { policy: { specific: { versions: ["2", "3"] } }, labels: { stable: "2", canary: "3" } };
measure("editModelConfig (model_500, policy + labels)", () =>
  editModelConfig(text, "bench", "model_500", change),
);
measure("editModelConfig (unchanged, no-op)", () =>
  editModelConfig(text, "bench", "model_999", { policy: { specific: { versions: ["1", "2"] } } }),
);
