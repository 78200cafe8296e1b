// The deep gate keys (gate.golden_files, golden_tolerance, requests[].tolerance.top_k, warmup_replay, stable_diff,
// latency) and the bake section: defaults, per-model merging, validation naming the key and the fix.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { loadDaemonConfig } from "../src/daemon-config/load.js";
import { configForModel } from "../src/daemon-config/model-view.js";
import { DaemonConfigError } from "../src/daemon-config/problems.js";
import { memoryReader } from "./helpers/daemon-config-reader.js";

function configDir(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), "tfs-config-gate-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

async function load(text: string, dir = "/cfg") {
  const file = join(dir, "daemon.yaml");
  return loadDaemonConfig({ config: file, modelConfigFile: "/m" }, {}, memoryReader({ [file]: text }));
}

async function problems(text: string, dir = "/cfg"): Promise<string[]> {
  try {
    await load(text, dir);
  } catch (error) {
    assert.ok(error instanceof DaemonConfigError, String(error));
    return error.problems.map((p) => `${p.path}: ${p.message}${p.hint ? ` (hint: ${p.hint})` : ""}`);
  }
  assert.fail("the config loaded");
}

test("golden files are relative to the config file; a missing one is an error at load naming its path", async (t) => {
  const dir = configDir(t);
  writeFileSync(join(dir, "cats.json"), "[]");
  const config = await load("gate:\n  golden_files: [cats.json]\n", dir);
  assert.deepEqual(config.gate.golden_files, [join(dir, "cats.json")]);

  const [missing, ...rest] = await problems(
    "gate:\n  golden_files: [cats.json, golden/traffic.tfrecord]\n",
    dir,
  );
  assert.equal(rest.length, 0);
  assert.match(
    missing!,
    /^gate\.golden_files\[1\]: golden file .*golden\/traffic\.tfrecord cannot be read \(ENOENT\)/,
  );
  assert.match(missing!, /relative paths are relative to the config file's directory/);

  const [override] = await problems(
    "models_overrides:\n  m:\n    gate: { golden_files: [nope.json] }\n",
    dir,
  );
  assert.match(override!, /^models_overrides\.m\.gate\.golden_files\[0\]: golden file .*nope\.json/);
});

test("requests[].tolerance takes top_k and min_top_k_agreement; the agreement needs top_k", async () => {
  const config = await load(
    "gate:\n  requests:\n    - { name: r, inputs: { x: [[1]] }, tolerance: { top_k: 3, min_top_k_agreement: 0.9 } }\n",
  );
  assert.deepEqual(config.gate.requests[0]?.tolerance, {
    absolute: 1e-6,
    relative: 1e-6,
    top_k: 3,
    min_top_k_agreement: 0.9,
  });
  const found = await problems(
    "gate:\n  requests:\n    - { name: r, inputs: { x: 1 }, tolerance: { min_top_k_agreement: 0.9 } }\n    - { name: s, inputs: { x: 1 }, tolerance: { top_k: 0 } }\n",
  );
  assert.equal(found.length, 2, found.join("\n"));
  assert.match(
    found[0]!,
    /gate\.requests\[0\]\.tolerance\.min_top_k_agreement: 0\.9 needs top_k .*hint: a share between 0 and 1, with top_k/,
  );
  assert.match(
    found[1]!,
    /gate\.requests\[1\]\.tolerance\.top_k: 0 must be at least 1 \(hint: a whole number >= 1 of top classes/,
  );
});

test("stable_diff and latency run when their section is present, unless enabled: false", async () => {
  const config = await load(
    [
      "gate:",
      "  stable_diff: { max_absolute: 0.01, min_argmax_agreement: 0.99 }",
      "  latency: { enabled: false, p99_budget: 200ms }",
      "  warmup_replay: { max_records: 5 }",
      "  golden_tolerance: { relative: 0.001 }",
    ].join("\n"),
  );
  assert.deepEqual(config.gate.stable_diff, {
    enabled: true,
    requests: 20,
    max_absolute: 0.01,
    min_argmax_agreement: 0.99,
  });
  assert.deepEqual(config.gate.latency, { enabled: false, requests: 20, floor: 5, p99_budget: 200 });
  assert.deepEqual(config.gate.warmup_replay, { enabled: true, max_records: 5 });
  assert.deepEqual(config.gate.golden_tolerance, { absolute: 1e-6, relative: 0.001 });
});

test("a model's nested gate sections merge key by key over the global ones", async () => {
  const config = await load(
    [
      "gate:",
      "  stable_diff: { max_absolute: 0.01 }",
      "  latency: { max_p99_ratio_vs_stable: 1.5 }",
      "models_overrides:",
      "  m:",
      "    gate:",
      "      stable_diff: { requests: 5 }",
      "      warmup_replay: { enabled: false }",
      "  n:",
      "    gate:",
      "      latency: { enabled: false }",
      "",
    ].join("\n"),
  );
  const m = configForModel(config, "m").gate;
  assert.deepEqual(m.stable_diff, { enabled: true, requests: 5, max_absolute: 0.01 });
  assert.deepEqual(m.warmup_replay, { enabled: false, max_records: 100 });
  assert.deepEqual(m.latency, { enabled: true, requests: 20, floor: 5, max_p99_ratio_vs_stable: 1.5 });
  const n = configForModel(config, "n").gate;
  assert.equal(n.latency.enabled, false, "a model can switch a global gate off");
  assert.equal(n.latency.max_p99_ratio_vs_stable, 1.5);
  assert.equal(configForModel(config, "other").gate.stable_diff.requests, 20);
});

test("bad deep gate values name the key and what is allowed", async () => {
  const found = await problems(
    [
      "gate:",
      "  stable_diff: { max_absolute: -1, min_argmax_agreement: 1.5, requests: 0 }",
      "  latency: { p50_budget: fast, max_p99_ratio_vs_stable: 0 }",
      "  warmup_replay: { max_records: 2.5, replay: true }",
    ].join("\n"),
  );
  const text = found.join("\n");
  assert.match(text, /gate\.stable_diff\.max_absolute: -1 must be >= 0/);
  assert.match(text, /gate\.stable_diff\.min_argmax_agreement: 1\.5 must be between 0 and 1/);
  assert.match(text, /gate\.stable_diff\.requests: 0 must be at least 1/);
  assert.match(text, /gate\.latency\.p50_budget: "fast" is not a duration/);
  assert.match(text, /gate\.latency\.max_p99_ratio_vs_stable: 0 must be > 0/);
  assert.match(text, /gate\.warmup_replay\.max_records: expected a whole number, got 2\.5/);
  assert.match(
    text,
    /gate\.warmup_replay\.replay: unknown key \(hint: valid keys in gate\.warmup_replay: enabled, max_records\)/,
  );
});

test("bake: defaults, per-model override, validation", async () => {
  const config = await load(
    'bake: { period: 2m, probe_cron: "*/5 * * * * *" }\nmodels_overrides:\n  m:\n    bake: { keep_previous: 0 }\n',
  );
  assert.deepEqual(config.bake, { period: 120_000, probe_cron: "*/5 * * * * *", keep_previous: 1 });
  assert.deepEqual(configForModel(config, "m").bake, {
    period: 120_000,
    probe_cron: "*/5 * * * * *",
    keep_previous: 0,
  });
  const found = (
    await problems('bake: { period: soon, probe_cron: "every minute", keep_previous: -1 }\n')
  ).join("\n");
  assert.match(found, /bake\.period: "soon" is not a duration/);
  assert.match(found, /bake\.probe_cron: "every minute" is not a valid cron expression/);
  assert.match(
    found,
    /bake\.keep_previous: -1 must be >= 0 \(0 unloads the previous version after the bake period\)/,
  );
});
