// End to end: the emulator as a real process (npm run emulator), spoken to with the project's real gRPC client.
import assert from "node:assert/strict";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, test } from "node:test";
import { encodeTensor } from "../src/tensor/codec.js";
import { TfServingGrpcClient } from "../src/tfserving/grpc-client.js";
import { GrpcCallError } from "../src/tfserving/grpc-errors.js";
import { fixturesSkip, TFSERVING_TESTDATA } from "./helpers/fixtures.js";
import {
  configText,
  modelEntry,
  publishVersion,
  spawnEmulator,
  tempDir,
  waitFor,
  writeVersion,
  type EmulatorProcess,
} from "./helpers/emulator-harness.js";

const tmp = tempDir();
const cleanups: Array<() => unknown> = [];
after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
  tmp.cleanup();
});
let counter = 0;

function caseDir(): string {
  const dir = join(tmp.dir, `case${++counter}`);
  mkdirSync(dir, { recursive: true });
  return dir;
}

async function start(args: string[]): Promise<{ emulator: EmulatorProcess; client: TfServingGrpcClient }> {
  const spawned = spawnEmulator([
    "--port=0",
    "--listen_host=127.0.0.1",
    "--file_system_poll_wait_seconds=0.05",
    "--max_num_load_retries=0",
    ...args,
  ]);
  cleanups.push(async () => {
    if (spawned.child.exitCode === null) spawned.child.kill("SIGKILL");
    await spawned.exited;
  });
  const emulator = await spawned.ready;
  const client = new TfServingGrpcClient({
    address: `127.0.0.1:${emulator.ports.grpc_port}`,
    attempts: 1,
    deadlineMs: 10_000,
  });
  cleanups.push(() => client.close());
  return { emulator, client };
}

function grpcError(code: number, message: string | RegExp) {
  return (e: unknown) => {
    assert.ok(e instanceof GrpcCallError, String(e));
    assert.equal(e.grpcCode, code, e.grpcMessage);
    if (typeof message === "string") assert.equal(e.grpcMessage, message);
    else assert.match(e.grpcMessage, message);
    return true;
  };
}

test(
  "facts §2, §5: real fixtures load, report status, predict 0.5x+2 and return their real signatures",
  { skip: fixturesSkip() },
  async () => {
    const dir = caseDir();
    const base = join(TFSERVING_TESTDATA, "saved_model_half_plus_two_2_versions");
    writeFileSync(
      join(dir, "models.config"),
      configText(modelEntry("hp", base, "model_version_policy { all {} }")),
    );
    const { emulator, client } = await start([`--model_config_file=${join(dir, "models.config")}`]);
    assert.equal(emulator.ports.rest_api_port, null);
    assert.deepEqual(
      (await client.getModelStatus("hp")).map((s) => `${s.version}:${s.state}`),
      ["124:AVAILABLE", "123:AVAILABLE"],
    );
    const reply = await client.predict({
      model_spec: { name: "hp", version: { value: "123" } },
      inputs: {
        x: encodeTensor(
          [
            [1, 2],
            [3, 4],
          ],
          { dtype: "DT_FLOAT" },
        ),
      },
    });
    assert.deepEqual(reply.model_spec, {
      name: "hp",
      version: { value: "123" },
      signature_name: "serving_default",
    });
    assert.deepEqual(
      (reply.outputs as Record<string, { float_val: number[] }>).y?.float_val,
      [2.5, 3, 3.5, 4],
    );
    const metadata = await client.getModelMetadata("hp", { version: "123" });
    const expected = JSON.parse(
      readFileSync(join(TFSERVING_TESTDATA, "saved_model_half_plus_two_2_versions_metadata.json"), "utf8"),
    ) as {
      metadata: {
        signature_def: {
          signature_def: Record<
            string,
            { method_name: string; inputs: Record<string, { name: string; dtype: string }> }
          >;
        };
      };
    };
    const want = expected.metadata.signature_def.signature_def;
    assert.deepEqual(Object.keys(metadata.signature_def).sort(), Object.keys(want).sort());
    for (const [name, signature] of Object.entries(want)) {
      const got = metadata.signature_def[name] as {
        method_name: string;
        inputs: Record<string, { name: string; dtype: string }>;
      };
      assert.equal(got.method_name, signature.method_name, name);
      for (const [alias, info] of Object.entries(signature.inputs)) {
        assert.equal(got.inputs[alias]?.name, info.name, `${name}.${alias}`);
        assert.equal(got.inputs[alias]?.dtype, info.dtype, `${name}.${alias}`);
      }
    }
    assert.deepEqual(metadata.model_spec, { name: "hp", version: { value: "123" } });
    assert.equal(await emulator.stop(), 0, "SIGTERM shuts down cleanly");
  },
);

test("facts §1: a config that does not parse fails startup with TF's message and protobuf's location", async () => {
  const dir = caseDir();
  const file = join(dir, "models.config");
  writeFileSync(file, 'model_config_list {\n  config { nme: "a" }\n}\n');
  const spawned = spawnEmulator(["--port=0", "--listen_host=127.0.0.1", `--model_config_file=${file}`]);
  const result = await spawned.exited;
  assert.equal(result.code, 255);
  assert.equal(result.stdout, "");
  assert.match(result.stderr, /Error parsing text-format tensorflow\.serving\.ModelServerConfig: 2:\d+: /);
  assert.match(
    result.stderr,
    new RegExp(`Failed to start server\\. Error: INVALID_ARGUMENT: Invalid protobuf file: '${file}'`),
  );
});

test("facts §3: labels in the file fail startup unless --allow_version_labels_for_unavailable_models", async () => {
  const dir = caseDir();
  writeVersion(join(dir, "a"), "1");
  const file = join(dir, "models.config");
  writeFileSync(
    file,
    configText(modelEntry("a", join(dir, "a"), 'version_labels { key: "stable" value: 1 }')),
  );
  const refused = await spawnEmulator(["--port=0", "--listen_host=127.0.0.1", `--model_config_file=${file}`])
    .exited;
  assert.equal(refused.code, 255);
  assert.match(
    refused.stderr,
    /Failed to start server\. Error: FAILED_PRECONDITION: Request to assign label to version 1 of model a, which is not currently available for inference/,
  );
  const { client } = await start([
    `--model_config_file=${file}`,
    "--allow_version_labels_for_unavailable_models",
  ]);
  const reply = await client.predict({
    model_spec: { name: "a", version_label: "stable" },
    inputs: { x: encodeTensor([[2]], { dtype: "DT_FLOAT" }) },
  });
  assert.equal((reply.model_spec as { version: { value: string } }).version.value, "1");
});

test("facts §3: the ports open only after the initial models loaded (a model without versions holds startup)", async () => {
  const dir = caseDir();
  const file = join(dir, "models.config");
  writeFileSync(file, configText(modelEntry("a", join(dir, "a"))));
  writeVersion(join(dir, "a"), "not-a-version", { signatures: {} });
  const spawned = spawnEmulator([
    "--port=0",
    "--listen_host=127.0.0.1",
    "--file_system_poll_wait_seconds=0.05",
    `--model_config_file=${file}`,
  ]);
  cleanups.push(async () => {
    if (spawned.child.exitCode === null) spawned.child.kill("SIGKILL");
    await spawned.exited;
  });
  let stderr = "";
  spawned.child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
  let listening = false;
  void spawned.ready.then(() => (listening = true));
  await waitFor(
    "three empty polls",
    () => (stderr.match(/No versions of servable a found/g) ?? []).length >= 3,
  );
  assert.equal(listening, false);
  publishVersion(join(dir, "a"), "1");
  const emulator = await spawned.ready;
  assert.ok(emulator.ports.grpc_port > 0);
});

test("facts §3: non-OK reloads are a gRPC status with no body; OK carries status OK", async () => {
  const dir = caseDir();
  writeVersion(join(dir, "a"), "1");
  const file = join(dir, "models.config");
  const config = {
    model_config_list: { config: [{ name: "a", base_path: join(dir, "a"), model_platform: "tensorflow" }] },
  };
  writeFileSync(file, configText(modelEntry("a", join(dir, "a"))));
  const { client } = await start([`--model_config_file=${file}`]);
  await assert.rejects(
    client.reloadConfig({}),
    grpcError(
      3,
      "ServerModelConfig type not supported by HandleReloadConfigRequest. Only ModelConfigList is currently supported",
    ),
  );
  await assert.rejects(
    client.reloadConfig({
      model_config_list: { config: [{ ...config.model_config_list.config[0], version_labels: { x: "9" } }] },
    }),
    grpcError(
      9,
      "Request to assign label to version 9 of model a, which is not currently available for inference",
    ),
  );
  const ok = await client.reloadConfig(config);
  assert.equal((ok.status as { error_code?: string } | undefined)?.error_code ?? "OK", "OK");
  await assert.rejects(
    client.predict({ model_spec: { name: "a", version_label: "x" }, inputs: {} }),
    grpcError(3, "Unrecognized servable version label: x"),
  );
});

test("facts §1: with --model_config_file_poll_wait_seconds the file overwrites an RPC-set config", async () => {
  const dir = caseDir();
  writeVersion(join(dir, "a"), "1");
  writeVersion(join(dir, "b"), "1");
  const file = join(dir, "models.config");
  writeFileSync(file, configText(modelEntry("a", join(dir, "a"))));
  const { client } = await start([
    `--model_config_file=${file}`,
    "--model_config_file_poll_wait_seconds=0.1",
  ]);
  await client.reloadConfig({
    model_config_list: {
      config: [
        { name: "a", base_path: join(dir, "a"), model_platform: "tensorflow" },
        { name: "b", base_path: join(dir, "b"), model_platform: "tensorflow" },
      ],
    },
  });
  assert.equal((await client.getModelStatus("b"))[0]?.state, "AVAILABLE");
  await waitFor(
    "the file poll to unload b",
    async () => (await client.getModelStatus("b"))[0]?.state === "END",
  );
  assert.equal((await client.getModelStatus("a"))[0]?.state, "AVAILABLE");
});

test("facts §3: a model that fails to load at startup exits non-zero with TF's servable(s) message", async () => {
  const dir = caseDir();
  mkdirSync(join(dir, "a", "1"), { recursive: true });
  const file = join(dir, "models.config");
  writeFileSync(file, configText(modelEntry("a", join(dir, "a"))));
  const result = await spawnEmulator([
    "--port=0",
    "--listen_host=127.0.0.1",
    "--max_num_load_retries=0",
    `--model_config_file=${file}`,
  ]).exited;
  assert.equal(result.code, 255);
  assert.equal(result.stdout, "");
  assert.match(
    result.stderr,
    /Failed to start server\. Error: UNKNOWN: 1 servable\(s\) did not become available: \{\{name: a version: 1\} due to error: NOT_FOUND: Could not find SavedModel/,
  );
});
