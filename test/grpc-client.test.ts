import * as grpc from "@grpc/grpc-js";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { ExitCode, RolloutError, UnreachableError, UsageError } from "../src/errors.js";
import { messageType } from "../src/proto/registry.js";
import { Backoff } from "../src/tfserving/backoff.js";
import {
  DEFAULT_GRPC_ADDRESS,
  SIGNATURE_DEF_MAP_TYPE_URL,
  readTlsFiles,
  TfServingGrpcClient,
  type TfServingGrpcClientOptions,
} from "../src/tfserving/grpc-client.js";
import { GrpcCallError, GrpcUnreachableError } from "../src/tfserving/grpc-errors.js";
import { toolSkip } from "./helpers/fixtures.js";
import { type GrpcTestServer, startGrpcTestServer } from "./helpers/grpc-test-server.js";
import { makePki } from "./helpers/pki.js";

const BEYOND_2_53 = "9007199254740993"; // 2^53 + 1: a JS number would silently turn it into ...992
const INT64_MAX = "9223372036854775807";
const LABEL_ERROR =
  "Request to assign label to version 124 of model half_plus_two, which is not currently available for inference";

const cleanups: Array<() => unknown> = [];
after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

async function server(...args: Parameters<typeof startGrpcTestServer>): Promise<GrpcTestServer> {
  const s = await startGrpcTestServer(...args);
  cleanups.push(() => s.close());
  return s;
}

/** A client whose retries do not really wait; `sleeps` records the delays asked for. */
function client(options: TfServingGrpcClientOptions & { sleeps?: number[] } = {}): TfServingGrpcClient {
  const sleeps = options.sleeps ?? [];
  const c = new TfServingGrpcClient({
    deadlineMs: 5000,
    backoff: new Backoff({
      initialMs: 10,
      maxMs: 50,
      random: () => 0.5,
      sleep: async (ms) => void sleeps.push(ms),
    }),
    ...options,
  });
  cleanups.push(() => c.close());
  return c;
}

test("getModelStatus sends the model spec and returns every version with int64 versions exact", async () => {
  const s = await server({
    GetModelStatus: () => ({
      model_version_status: [
        { version: INT64_MAX, state: "AVAILABLE", status: { error_code: "OK" } },
        {
          version: BEYOND_2_53,
          state: "END",
          status: { error_code: "NOT_FOUND", error_message: "Could not find SavedModel .pb" },
        },
        { version: "7", state: "LOADING" },
      ],
    }),
  });
  const statuses = await client({ address: s.address }).getModelStatus("half_plus_two", {
    version: BEYOND_2_53,
  });
  assert.deepEqual(s.requests, [
    {
      method: "GetModelStatus",
      request: { model_spec: { name: "half_plus_two", version: { value: BEYOND_2_53 } } },
    },
  ]);
  assert.deepEqual(statuses, [
    { version: INT64_MAX, state: "AVAILABLE", error_code: "OK", error_message: "" },
    {
      version: BEYOND_2_53,
      state: "END",
      error_code: "NOT_FOUND",
      error_message: "Could not find SavedModel .pb",
    },
    { version: "7", state: "LOADING", error_code: "OK", error_message: "" },
  ]);
});

test("reloadConfig sends the canonical config unchanged, int64 labels and versions exact", async () => {
  const config = {
    model_config_list: {
      config: [
        {
          name: "half_plus_two",
          base_path: "/models/half_plus_two",
          model_platform: "tensorflow",
          model_version_policy: { specific: { versions: ["123", BEYOND_2_53] } },
          version_labels: { stable: "123", canary: BEYOND_2_53 },
        },
      ],
    },
  };
  const s = await server({ HandleReloadConfigRequest: () => ({ status: { error_code: "OK" } }) });
  const reply = await client({ address: s.address }).reloadConfig(config, { metricNames: ["/x/y"] });
  assert.deepEqual(reply, { status: { error_code: "OK" } });
  assert.deepEqual(s.requests[0]?.request, { config, metric_names: ["/x/y"] });
});

test("a failed reload has no body: the error carries the gRPC code, name, message and address", async () => {
  const s = await server({
    HandleReloadConfigRequest: () => ({
      error: { code: grpc.status.FAILED_PRECONDITION, details: LABEL_ERROR },
    }),
  });
  const c = client({ address: s.address });
  const error = await c.reloadConfig({ model_config_list: {} }).then(
    () => assert.fail("reload should fail"),
    (e: unknown) => e,
  );
  assert.ok(error instanceof GrpcCallError);
  assert.equal(error.grpcCode, 9);
  assert.equal(error.grpcCodeName, "FAILED_PRECONDITION");
  assert.equal(error.grpcMessage, LABEL_ERROR);
  assert.equal(error.address, s.address);
  assert.equal(error.where, s.address);
  assert.equal(error.method, "ModelService/HandleReloadConfigRequest");
  assert.equal(error.exitCode, ExitCode.failed);
  assert.match(error.message, /FAILED_PRECONDITION \(9\): Request to assign label to version 124/);
  assert.match(error.hint ?? "", /AVAILABLE/);
});

test("a reload is never retried, not even on UNAVAILABLE from the server", async () => {
  const s = await server({
    HandleReloadConfigRequest: () => ({ error: { code: grpc.status.UNAVAILABLE, details: "busy" } }),
  });
  const sleeps: number[] = [];
  const error = await client({ address: s.address, sleeps, attempts: 5 })
    .reloadConfig({ model_config_list: {} })
    .catch((e: unknown) => e);
  assert.ok(error instanceof UnreachableError);
  assert.equal(s.requests.length, 1);
  assert.deepEqual(sleeps, []);
});

test("status messages TF Serving cut at 1024 chars are kept exactly as sent", async () => {
  const long = "x".repeat(1024 - "...TRUNCATED".length) + "...TRUNCATED";
  const s = await server({
    HandleReloadConfigRequest: () => ({ error: { code: grpc.status.UNKNOWN, details: long } }),
  });
  const error = await client({ address: s.address })
    .reloadConfig({ model_config_list: {} })
    .catch((e: unknown) => e);
  assert.ok(error instanceof GrpcCallError);
  assert.equal(error.grpcMessage, long);
  assert.equal(error.grpcCodeName, "UNKNOWN");
  assert.match(error.hint ?? "", /GetModelStatus/);
});

test("idempotent calls are retried after UNAVAILABLE with backoff delays, then succeed", async () => {
  let calls = 0;
  const s = await server({
    GetModelStatus: () =>
      ++calls < 3
        ? { error: { code: grpc.status.UNAVAILABLE, details: "Model labels does not init yet.stable" } }
        : { model_version_status: [{ version: "1", state: "AVAILABLE" }] },
  });
  const sleeps: number[] = [];
  const statuses = await client({ address: s.address, sleeps, attempts: 3 }).getModelStatus("m");
  assert.equal(statuses[0]?.state, "AVAILABLE");
  assert.equal(s.requests.length, 3);
  assert.deepEqual(sleeps, [10, 16]); // initial, then × 1.6 (random 0.5 means no jitter)
});

test("other failures are not retried and keep their code", async () => {
  const s = await server({
    GetModelStatus: () => ({
      error: { code: grpc.status.NOT_FOUND, details: "Could not find any versions of model m" },
    }),
  });
  const error = await client({ address: s.address })
    .getModelStatus("m")
    .catch((e: unknown) => e);
  assert.ok(error instanceof GrpcCallError);
  assert.equal(error.grpcCode, grpc.status.NOT_FOUND);
  assert.equal(s.requests.length, 1);
});

test("a server that is down gives UnreachableError (exit 3) after the configured attempts", async () => {
  const s = await startGrpcTestServer();
  const address = s.address;
  await s.close(); // the port is now closed: connection refused
  const sleeps: number[] = [];
  const error = await client({ address, sleeps, attempts: 3 })
    .getModelStatus("m")
    .catch((e: unknown) => e);
  assert.ok(error instanceof GrpcUnreachableError);
  assert.ok(error instanceof UnreachableError);
  assert.equal(error.exitCode, ExitCode.unreachable);
  assert.equal(error.grpcCode, grpc.status.UNAVAILABLE);
  assert.equal(error.grpcCodeName, "UNAVAILABLE");
  assert.equal(error.attempts, 3);
  assert.equal(sleeps.length, 2);
  assert.match(error.hint ?? "", new RegExp(`${address}.*--port`));
});

test("the client reconnects when TF Serving comes up while it is retrying", async () => {
  const probe = await startGrpcTestServer();
  const port = probe.port;
  await probe.close();
  let started: Promise<GrpcTestServer> | undefined;
  const c = new TfServingGrpcClient({
    address: `127.0.0.1:${port}`,
    attempts: 50,
    backoff: new Backoff({
      initialMs: 5,
      maxMs: 20,
      // The first wait starts the server (on the port that just refused); later waits are real, short sleeps.
      sleep: async (ms) => {
        started ??= server(
          { GetModelStatus: () => ({ model_version_status: [{ version: "3", state: "AVAILABLE" }] }) },
          { port },
        );
        await started;
        await new Promise((resolve) => setTimeout(resolve, ms));
      },
    }),
  });
  cleanups.push(() => c.close());
  const statuses = await c.getModelStatus("m");
  assert.equal(statuses[0]?.version, "3");
  assert.ok(started, "the first attempt should have failed while the server was down");
});

test("DEADLINE_EXCEEDED after the server got the call is an ordinary, unretried error", async () => {
  const s = await server({ GetModelStatus: () => "hang", Predict: () => ({}) });
  const c = client({ address: s.address, deadlineMs: 200 });
  await c.predict({ model_spec: { name: "m" } }); // the channel is connected now
  const error = await c.getModelStatus("m").catch((e: unknown) => e);
  assert.ok(error instanceof GrpcCallError, String(error));
  assert.equal(error.grpcCode, grpc.status.DEADLINE_EXCEEDED);
  assert.equal(s.requests.filter((r) => r.method === "GetModelStatus").length, 1);
});

test("DEADLINE_EXCEEDED while still connecting is UnreachableError", async () => {
  // A TCP listener that never speaks HTTP/2: the gRPC channel stays CONNECTING.
  const sockets: Socket[] = [];
  const mute = createServer((socket) => void sockets.push(socket));
  await new Promise<void>((resolve) => mute.listen(0, "127.0.0.1", resolve));
  cleanups.push(
    () =>
      new Promise((resolve) => {
        for (const socket of sockets) socket.destroy();
        mute.close(resolve);
      }),
  );
  const port = (mute.address() as { port: number }).port;
  const error = await client({ address: `127.0.0.1:${port}`, deadlineMs: 300, attempts: 2 })
    .getModelStatus("m")
    .catch((e: unknown) => e);
  assert.ok(error instanceof GrpcUnreachableError, String(error));
  assert.equal(error.grpcCode, grpc.status.DEADLINE_EXCEEDED);
  assert.equal(error.attempts, 2);
});

test("predict round-trips tensors; replies above 4 MB succeed with the raised default limit", async () => {
  const big = Buffer.alloc(5 * 1024 * 1024, 7);
  const s = await server({
    Predict: (request) => ({
      model_spec: { name: "m", signature_name: "serving_default", version: { value: BEYOND_2_53 } },
      outputs: {
        y: { dtype: "DT_UINT8", tensor_shape: { dim: [{ size: String(big.length) }] }, tensor_content: big },
        echo: (request.inputs as Record<string, unknown>).x as Record<string, unknown>,
      },
    }),
  });
  const x = { dtype: "DT_INT64", tensor_shape: { dim: [{ size: "2" }] }, int64_val: [BEYOND_2_53, "-1"] };
  const request = { model_spec: { name: "m", version_label: "canary" }, inputs: { x } };
  const reply = await client({ address: s.address }).predict(request);
  assert.deepEqual(s.requests[0]?.request, request);
  const outputs = reply.outputs as Record<string, { tensor_content?: Buffer }>;
  assert.ok(big.equals(outputs.y?.tensor_content ?? Buffer.alloc(0)));
  assert.deepEqual(outputs.echo, x);
  assert.deepEqual((reply.model_spec as { version: unknown }).version, { value: BEYOND_2_53 });

  const small = client({ address: s.address, maxReceiveMessageLength: 4 * 1024 * 1024 });
  const error = await small.predict(request).catch((e: unknown) => e);
  assert.ok(error instanceof GrpcCallError);
  assert.equal(error.grpcCode, grpc.status.RESOURCE_EXHAUSTED);
  assert.match(error.hint ?? "", /maxReceiveMessageLength/);
});

const SIGNATURES = {
  serving_default: {
    inputs: {
      x: { name: "x:0", dtype: "DT_FLOAT", tensor_shape: { dim: [{ size: "-1" }, { size: "1" }] } },
    },
    outputs: {
      y: { name: "y:0", dtype: "DT_FLOAT", tensor_shape: { dim: [{ size: "-1" }, { size: "1" }] } },
    },
    method_name: "tensorflow/serving/predict",
  },
  __saved_model_init_op: { outputs: { __saved_model_init_op: { name: "NoOp" } } },
};

function signatureAny(typeUrl = SIGNATURE_DEF_MAP_TYPE_URL) {
  const type = messageType("tensorflow.serving.SignatureDefMap");
  const value = Buffer.from(type.encode(type.fromObject({ signature_def: SIGNATURES })).finish());
  return { type_url: typeUrl, value };
}

test("getModelMetadata asks for signature_def and decodes the SignatureDefMap Any", async () => {
  const s = await server({
    GetModelMetadata: () => ({
      model_spec: { name: "half_plus_two", version: { value: "123" } },
      metadata: { signature_def: signatureAny() },
    }),
  });
  const c = client({ address: s.address });
  const metadata = await c.getModelMetadata("half_plus_two", { label: "stable" });
  assert.deepEqual(metadata, {
    model_spec: { name: "half_plus_two", version: { value: "123" } },
    signature_def: SIGNATURES,
  });
  await c.getModelMetadata("half_plus_two", { version: 123 });
  assert.deepEqual(
    s.requests.map((r) => r.request),
    [
      { model_spec: { name: "half_plus_two", version_label: "stable" }, metadata_field: ["signature_def"] },
      { model_spec: { name: "half_plus_two", version: { value: "123" } }, metadata_field: ["signature_def"] },
    ],
  );
});

test("getModelMetadata rejects other type_urls and a missing entry clearly", async () => {
  const s = await server({
    GetModelMetadata: () => ({
      metadata: { signature_def: signatureAny("type.googleapis.com/other.Thing") },
    }),
  });
  const c = client({ address: s.address });
  await assert.rejects(c.getModelMetadata("m"), (e: unknown) => {
    assert.ok(e instanceof RolloutError);
    assert.match(e.message, /type\.googleapis\.com\/other\.Thing.*tensorflow\.serving\.SignatureDefMap/);
    return true;
  });
  s.handlers.GetModelMetadata = () => ({ metadata: {} });
  await assert.rejects(c.getModelMetadata("m"), /no "signature_def" metadata entry/);
});

test("bad arguments are usage errors before anything is sent", async () => {
  assert.throws(() => new TfServingGrpcClient({ address: "localhost" }), UsageError);
  assert.throws(() => new TfServingGrpcClient({ address: "http://127.0.0.1:8500" }), UsageError);
  assert.throws(() => new TfServingGrpcClient({ tls: { cert: Buffer.from("x") } }), /together/);
  assert.throws(() => new TfServingGrpcClient({ deadlineMs: 0 }), UsageError);
  assert.throws(
    () => readTlsFiles({ ca: "/nonexistent/ca.pem" }),
    (e: unknown) => {
      assert.ok(e instanceof UsageError);
      assert.equal(e.where, "/nonexistent/ca.pem");
      return true;
    },
  );
  const s = await server();
  const c = client({ address: s.address });
  await assert.rejects(c.getModelStatus("m", { version: 2 ** 53 + 2 }), UsageError);
  await assert.rejects(c.getModelStatus("m", { version: "9223372036854775808" }), UsageError);
  await assert.rejects(c.getModelStatus("m", { version: "1.5" }), UsageError);
  await assert.rejects(c.getModelStatus(""), UsageError);
  await assert.rejects(c.getModelMetadata("m", { version: 1, label: "stable" }), UsageError);
  assert.equal(s.requests.length, 0);
  assert.equal(new TfServingGrpcClient().address, DEFAULT_GRPC_ADDRESS);
});

test(
  "TLS with a private CA and client certificates (certificates made by openssl)",
  {
    skip: toolSkip("openssl", "openssl"),
  },
  async () => {
    const dir = mkdtempSync(join(tmpdir(), "tfs-rollout-tls-"));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const files = makePki(dir, `DNS:${TLS_SERVER_NAME}`);
    const pki = {
      ca: readFileSync(files.ca),
      serverCert: readFileSync(files.serverCert),
      serverKey: readFileSync(files.serverKey),
    };
    const s = await server(
      { GetModelStatus: () => ({ model_version_status: [{ version: "1", state: "AVAILABLE" }] }) },
      {
        credentials: grpc.ServerCredentials.createSsl(
          pki.ca,
          [{ cert_chain: pki.serverCert, private_key: pki.serverKey }],
          true,
        ),
      },
    );
    // Certificates read from files; the server's certificate names only TLS_SERVER_NAME (no IP), so this also
    // proves the name override is applied.
    const tls = readTlsFiles({
      ca: files.ca,
      cert: files.clientCert,
      key: files.clientKey,
      serverNameOverride: TLS_SERVER_NAME,
    });
    const secure = client({ address: s.address, tls });
    assert.equal((await secure.getModelStatus("m"))[0]?.state, "AVAILABLE");

    // A certificate for another name is refused by the client.
    const wrongName = client({
      address: s.address,
      tls: { ...tls, serverNameOverride: "other.test" },
      attempts: 1,
    });
    await assert.rejects(wrongName.getModelStatus("m"), /does not match certificate/);

    // The server demands a client certificate: without one the handshake fails and nothing reaches it.
    const anonymous = client({
      address: s.address,
      tls: { ca: pki.ca, serverNameOverride: TLS_SERVER_NAME },
      attempts: 1,
    });
    await assert.rejects(anonymous.getModelStatus("m"), UnreachableError);
    assert.equal(s.requests.length, 1);
  },
);

const TLS_SERVER_NAME = "tfserving.test";
