// The wiring of startEmulator in-process: gRPC + REST + control front ends share one core, Faults and CallLog.
import * as grpc from "@grpc/grpc-js";
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, test } from "node:test";
import { startEmulator, StartupError, type RunningEmulator } from "../src/emulator/emulator.js";
import { parseFlags } from "../src/emulator/flags.js";
import { statusMessage } from "../src/emulator/grpc-server.js";
import { encodeTensor } from "../src/tensor/codec.js";
import { TfServingGrpcClient } from "../src/tfserving/grpc-client.js";
import { GrpcCallError } from "../src/tfserving/grpc-errors.js";
import { tfServingServices } from "../src/tfserving/grpc-package.js";
import {
  configText,
  modelEntry,
  publishVersion,
  tempDir,
  waitFor,
  writeVersion,
} from "./helpers/emulator-harness.js";

const tmp = tempDir();
const cleanups: Array<() => unknown> = [];
after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
  tmp.cleanup();
});
const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined };

async function emulator(
  extra: string[] = [],
): Promise<{ running: RunningEmulator; client: TfServingGrpcClient }> {
  writeVersion(join(tmp.dir, "a"), "1");
  const file = join(tmp.dir, "models.config");
  writeFileSync(file, configText(modelEntry("a", join(tmp.dir, "a"), "model_version_policy { all {} }")));
  const running = await startEmulator(
    parseFlags([
      `--model_config_file=${file}`,
      "--port=0",
      "--listen_host=127.0.0.1",
      "--file_system_poll_wait_seconds=0.05",
      "--max_num_load_retries=0",
      ...extra,
    ]),
    quiet,
  );
  cleanups.push(() => running.close());
  const client = new TfServingGrpcClient({ address: `127.0.0.1:${running.ports.grpc_port}`, attempts: 1 });
  cleanups.push(() => client.close());
  return { running, client };
}

test("REST and control ports start only when their flags are given; REST serves the same core", async () => {
  const { running } = await emulator(["--rest_api_port=0", "--control_port=0"]);
  assert.ok(running.ports.rest_api_port && running.ports.rest_api_port > 0);
  assert.ok(running.ports.control_port && running.ports.control_port > 0);
  const response = await fetch(`http://127.0.0.1:${running.ports.rest_api_port}/v1/models/a`);
  assert.equal(response.status, 200);
  assert.match(await response.text(), /"state": ?"AVAILABLE"/);
  const faults = await fetch(`http://127.0.0.1:${running.ports.control_port}/faults`);
  assert.equal(faults.status, 200);
});

test("gRPC handlers consult Faults (unavailable, next reload, held versions) and record every call", async () => {
  const { running, client } = await emulator();
  const x = { x: encodeTensor([[1]], { dtype: "DT_FLOAT" }) };
  await client.predict({ model_spec: { name: "a", version: { value: "1" } }, inputs: x });
  running.faults.makeUnavailable(60);
  await assert.rejects(
    client.getModelStatus("a"),
    (e: unknown) => e instanceof Error && /UNAVAILABLE|unavailable/i.test(e.message),
  );
  running.faults.clearUnavailable();
  assert.deepEqual(
    running.callLog.list({ transport: "grpc" }).map((r) => [r.method, r.model, r.version, r.code]),
    [
      ["Predict", "a", "1", "OK"],
      ["GetModelStatus", "a", undefined, "UNAVAILABLE"],
    ],
  );
  running.faults.setNextReload({ fail: { code: "INTERNAL", message: "injected" } });
  const config = {
    model_config_list: {
      config: [
        {
          name: "a",
          base_path: join(tmp.dir, "a"),
          model_platform: "tensorflow",
          model_version_policy: { all: {} },
        },
      ],
    },
  };
  await assert.rejects(
    client.reloadConfig(config),
    (e: unknown) => e instanceof GrpcCallError && e.grpcCode === 13 && e.grpcMessage === "injected",
  );
  assert.deepEqual(running.callLog.last({ method: "HandleReloadConfigRequest" })?.config, config);
  running.faults.hold("a", "2");
  publishVersion(join(tmp.dir, "a"), "2");
  await waitFor("2 LOADING", async () => (await client.getModelStatus("a"))[0]?.state === "LOADING");
  running.faults.release("a", "2");
  await waitFor("2 AVAILABLE", async () => (await client.getModelStatus("a"))[0]?.state === "AVAILABLE");
});

test("facts §1: custom_model_config in the file fails startup", async () => {
  const file = join(tmp.dir, "custom.config");
  writeFileSync(file, 'custom_model_config { type_url: "x" }\n');
  await assert.rejects(
    startEmulator(parseFlags([`--model_config_file=${file}`, "--port=0", "--listen_host=127.0.0.1"]), quiet),
    (e: unknown) =>
      e instanceof StartupError &&
      e.message === "Failed to start server. Error: ModelServer does not yet support custom model config.",
  );
});

test("facts §1: a missing config file fails startup with NOT_FOUND", async () => {
  const file = join(tmp.dir, "absent.config");
  await assert.rejects(
    startEmulator(parseFlags([`--model_config_file=${file}`, "--port=0", "--listen_host=127.0.0.1"]), quiet),
    (e: unknown) =>
      e instanceof StartupError &&
      e.message === `Failed to start server. Error: NOT_FOUND: ${file}; No such file or directory`,
  );
});

test("facts §2: GetModelMetadata and Predict request errors come back as TF's INVALID_ARGUMENT statuses", async () => {
  const { running } = await emulator();
  const services = tfServingServices();
  const raw = new services.PredictionService(
    `127.0.0.1:${running.ports.grpc_port}`,
    grpc.credentials.createInsecure(),
  );
  cleanups.push(() => raw.close());
  const call = (method: string, request: object) =>
    new Promise<grpc.ServiceError>((resolve, reject) =>
      (raw as unknown as Record<string, (r: object, cb: (e: grpc.ServiceError | null) => void) => void>)[
        method
      ]!(request, (error) =>
        error ? resolve(error) : reject(new Error(`${method} unexpectedly succeeded`)),
      ),
    );
  const cases: Array<[string, object, string]> = [
    [
      "GetModelMetadata",
      { model_spec: { name: "a" } },
      "GetModelMetadataRequest must specify at least one metadata_field",
    ],
    [
      "GetModelMetadata",
      { model_spec: { name: "a" }, metadata_field: ["signature_def", "x"] },
      "Metadata field x is not supported",
    ],
    ["GetModelMetadata", { metadata_field: ["signature_def"] }, "Missing ModelSpec"],
    ["Predict", {}, "Missing ModelSpec"],
  ];
  for (const [method, request, message] of cases) {
    const error = await call(method, request);
    assert.equal(error.code, grpc.status.INVALID_ARGUMENT, `${method}: ${error.details}`);
    assert.equal(error.details, message);
  }
  const classify = await call("Classify", { model_spec: { name: "a" } });
  assert.equal(classify.code, grpc.status.UNIMPLEMENTED);
});

test("facts §2: status messages longer than 1024 chars are cut with ...TRUNCATED", () => {
  assert.equal(statusMessage("short"), "short");
  const cut = statusMessage("x".repeat(5000));
  assert.equal(cut.length, 1024);
  assert.ok(cut.endsWith("...TRUNCATED"));
});
