// What one reconcile pass puts on the path of its step event (engine/model-pass.ts), in process against an in-process
// emulator: the journal entry is durable when the event is told, the verdict store (the CLI's view) is written
// after it but before the pass is over.
import assert from "node:assert/strict";
import { readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { loadDaemonConfig, nodeConfigFileReader } from "../src/daemon-config/index.js";
import { startEmulator } from "../src/emulator/emulator.js";
import { parseFlags } from "../src/emulator/flags.js";
import { Engine } from "../src/engine/engine.js";
import { createEngineLogger } from "../src/engine/logger.js";
import { writeSavedModel } from "../src/savedmodel/writer.js";
import { configText, HALF_PLUS_TWO, modelEntry, tempDir, waitFor } from "./helpers/emulator-harness.js";
import { publish } from "./helpers/rollout-world.js";

const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined };

test("a step's event is told once its journal entry is on disk; the verdict store follows before the pass ends", async (t) => {
  const tmp = tempDir("tfs-model-pass-");
  const base = join(tmp.dir, "m");
  publish(base, "1");
  const configFile = join(tmp.dir, "models.config");
  writeFileSync(configFile, configText(modelEntry("m", base)));
  const emulator = await startEmulator(
    parseFlags([
      `--model_config_file=${configFile}`,
      "--port=0",
      "--file_system_poll_wait_seconds=0.1",
      "--allow_version_labels_for_unavailable_models=true",
    ]),
    quiet,
  );
  const daemonFile = join(tmp.dir, "daemon.yaml");
  writeFileSync(
    daemonFile,
    [
      `model_config_file: ${configFile}`,
      `state_dir: ${join(tmp.dir, "state")}`,
      "tf_serving:",
      `  grpc_address: 127.0.0.1:${emulator.ports.grpc_port}`,
      "admission:",
      "  marker_file: _SUCCESS",
      "watch:",
      '  rescan_cron: "0 0 1 1 *"',
    ].join("\n"),
  );
  const config = await loadDaemonConfig({ config: daemonFile }, {}, nodeConfigFileReader(tmp.dir));
  const engine = await Engine.open(config, createEngineLogger({ write: () => undefined }));
  t.after(async () => {
    await engine.stop();
    await emulator.close();
    tmp.cleanup();
  });
  const order: string[] = [];
  const put = engine.state.verdicts.put.bind(engine.state.verdicts);
  engine.state.verdicts.put = async (record) => {
    order.push(`verdict ${record.version} ${record.verdict}`);
    await put(record);
  };
  let journaledAtEvent: boolean | undefined;
  engine.onStep((event) => {
    order.push(`event ${event.step.kind}`);
    if (event.step.kind !== "admit") return;
    const journal = readFileSync(join(tmp.dir, "state", "models", "m", "journal.jsonl"), "utf8");
    journaledAtEvent = journal.split("\n").some((l) => l.includes('"admit"') && l.includes('"done"'));
  });
  await engine.start();
  await waitFor("1 adopted and verified", () => order.includes("event verify"), 30_000);
  const staging = join(base, "2.tmp");
  writeSavedModel(staging, { signatures: HALF_PLUS_TWO, withVariables: true });
  writeFileSync(join(staging, "_SUCCESS"), "");
  renameSync(staging, join(base, "2"));
  await waitFor("2 admitted, its verdict stored", () => order.includes("verdict 2 candidate"), 30_000);
  assert.equal(journaledAtEvent, true, "the admit entry was on disk when its event was told");
  const admitAt = order.indexOf("event admit");
  assert.ok(admitAt >= 0 && admitAt < order.indexOf("verdict 2 candidate"), order.join(" → "));
  assert.equal(order[admitAt + 1], "verdict 2 candidate", "the store is written before the next step");
});
