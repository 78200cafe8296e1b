import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { after, test } from "node:test";
import { ExitCode, RolloutError, UnreachableError, UsageError } from "../src/errors.js";
import { RestClient, TfServingHttpError } from "../src/tfserving/rest-client.js";
import { fixturesSkip, TFSERVING_TESTDATA } from "./helpers/fixtures.js";

interface Seen {
  method: string;
  url: string;
  body: string;
}
type Reply = { status?: number; body: string } | "hang";

/** A fake TF Serving REST API on 127.0.0.1:0 answering from `route`; records every request it receives. */
async function fakeServer(route: (seen: Seen) => Reply) {
  const seen: Seen[] = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let body = "";
    req.on("data", (chunk: Buffer) => (body += chunk.toString()));
    req.on("end", () => {
      const request = { method: req.method ?? "", url: req.url ?? "", body };
      seen.push(request);
      const reply = route(request);
      if (reply === "hang") return;
      res.writeHead(reply.status ?? 200, { "content-type": "application/json" });
      res.end(reply.body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  after(close);
  return { base, seen, close };
}

const STATUS_BODY = `{
 "model_version_status": [
  {
   "version": "124",
   "state": "AVAILABLE",
   "status": {
    "error_code": "OK",
    "error_message": ""
   }
  },
  {
   "version": "123",
   "state": "END",
   "status": {
    "error_code": "NOT_FOUND",
    "error_message": "gone"
   }
  }
 ]
}`;

test("modelStatus reads TF Serving's status JSON (int64 versions stay strings) and URL-encodes the name", async () => {
  const { base, seen } = await fakeServer(() => ({ body: STATUS_BODY }));
  const client = new RestClient({ baseUrl: `${base}/` });
  const statuses = await client.modelStatus("team/model x");
  assert.deepEqual(
    statuses.map((s) => [s.version, s.state, s.status?.error_code]),
    [
      ["124", "AVAILABLE", "OK"],
      ["123", "END", "NOT_FOUND"],
    ],
  );
  await client.modelStatus("m", 123n);
  assert.deepEqual(
    seen.map((s) => `${s.method} ${s.url}`),
    ["GET /v1/models/team%2Fmodel%20x", "GET /v1/models/m/versions/123"],
  );
});

test("a bad version or empty name is refused before any request is sent", async () => {
  const { base, seen } = await fakeServer(() => ({ body: STATUS_BODY }));
  const client = new RestClient({ baseUrl: base });
  await assert.rejects(
    client.modelStatus("m", "12a"),
    (e: unknown) => e instanceof UsageError && /"12a"/.test(e.message),
  );
  await assert.rejects(client.modelStatus(""), UsageError);
  await assert.rejects(client.modelMetadata("m", { label: "" }), UsageError);
  assert.equal(seen.length, 0);
});

test("modelMetadata resolves a label in the URL and unwraps metadata.signature_def.signature_def", async () => {
  const body = JSON.stringify({
    model_spec: { name: "m", signature_name: "", version: "124" },
    metadata: {
      signature_def: {
        signature_def: {
          serving_default: {
            inputs: {
              x: {
                dtype: "DT_FLOAT",
                tensor_shape: { dim: [{ size: "-1", name: "" }], unknown_rank: false },
                name: "x:0",
              },
            },
            outputs: {},
            method_name: "tensorflow/serving/predict",
            defaults: {},
          },
        },
      },
    },
  });
  const { base, seen } = await fakeServer(() => ({ body }));
  const metadata = await new RestClient({ baseUrl: base }).modelMetadata("m", { label: "canary" });
  assert.equal(seen[0]?.url, "/v1/models/m/labels/canary/metadata");
  assert.equal(metadata.model_spec.version, "124");
  assert.deepEqual(Object.keys(metadata.signature_def), ["serving_default"]);
  assert.equal(metadata.signature_def.serving_default?.inputs?.x?.tensor_shape?.dim?.[0]?.size, "-1");
});

test("predict (row form) sends instances and signature_name and parses bare NaN/Infinity in the reply", async () => {
  const { base, seen } = await fakeServer(() => ({
    body: '{\n    "predictions": [3.0, NaN, Infinity, -Infinity]\n}',
  }));
  const reply = await new RestClient({ baseUrl: base }).predict(
    "half plus two",
    { instances: [2.0, NaN, Infinity, -Infinity] },
    { ref: { version: 7 }, signatureName: "serving_default" },
  );
  assert.equal(seen[0]?.method, "POST");
  assert.equal(seen[0]?.url, "/v1/models/half%20plus%20two/versions/7:predict");
  assert.equal(seen[0]?.body, '{"signature_name":"serving_default","instances":[2,NaN,Infinity,-Infinity]}');
  assert.ok("predictions" in reply);
  const [three, nan, inf, negInf] = reply.predictions as number[];
  assert.equal(three, 3);
  assert.ok(Number.isNaN(nan));
  assert.equal(inf, Infinity);
  assert.equal(negInf, -Infinity);
});

test("predict (columnar form) sends inputs, keeps int64 outputs exact and checks the reply has outputs", async () => {
  let replyBody = '{"outputs": {"ids": [9007199254740993, 1], "label": "NaN"}}';
  const { base, seen } = await fakeServer(() => ({ body: replyBody }));
  const client = new RestClient({ baseUrl: base });
  const reply = await client.predict(
    "m",
    { inputs: { x: [[1.5]], ids: [2n ** 63n - 1n] } },
    { ref: { label: "stable" } },
  );
  assert.equal(seen[0]?.url, "/v1/models/m/labels/stable:predict");
  assert.equal(seen[0]?.body, '{"inputs":{"x":[[1.5]],"ids":[9223372036854775807]}}');
  assert.deepEqual(reply, { outputs: { ids: [9007199254740993n, 1], label: "NaN" } });
  replyBody = '{"predictions": [1]}';
  await assert.rejects(
    client.predict("m", { inputs: [1] }),
    (e: unknown) => e instanceof RolloutError && /no "outputs" field/.test(e.message),
  );
});

test("an HTTP error carries the status, TF Serving's error text and the URL", async () => {
  const { base } = await fakeServer(() => ({
    status: 404,
    body: '{\n    "error": "Could not find any versions of model missing"\n}',
  }));
  const error = await new RestClient({ baseUrl: base }).modelStatus("missing").then(
    () => assert.fail("expected a rejection"),
    (e: unknown) => e,
  );
  assert.ok(error instanceof TfServingHttpError);
  assert.equal(error.httpStatus, 404);
  assert.equal(error.serverMessage, "Could not find any versions of model missing");
  assert.equal(error.url, `${base}/v1/models/missing`);
  assert.equal(error.where, `${base}/v1/models/missing`);
  assert.match(error.describe(), /HTTP 404 to GET: Could not find any versions of model missing/);
  assert.equal(error.exitCode, ExitCode.failed);
});

test("a non-TF-Serving error page is reported with its start and a hint about the base URL", async () => {
  const { base } = await fakeServer(() => ({
    status: 404,
    body: "<html><title>404 Not Found</title></html>",
  }));
  await assert.rejects(
    new RestClient({ baseUrl: base }).modelStatus("m"),
    (e: unknown) =>
      e instanceof TfServingHttpError &&
      e.serverMessage === undefined &&
      e.message.includes("<html><title>404") &&
      /--rest_api_port/.test(e.hint ?? ""),
  );
});

test("a 200 reply that is not TF Serving's shape or not JSON fails clearly", async () => {
  let body = '{"model_version_status": [{"version": 5}]}';
  const { base } = await fakeServer(() => ({ body }));
  const client = new RestClient({ baseUrl: base });
  await assert.rejects(
    client.modelStatus("m"),
    (e: unknown) =>
      e instanceof RolloutError && /unexpected shape at model_version_status\.0\.version/.test(e.message),
  );
  body = "OK";
  await assert.rejects(
    client.modelStatus("m"),
    (e: unknown) => e instanceof RolloutError && /is not JSON/.test(e.message),
  );
});

test("connection refused is an UnreachableError naming the URL and --rest_api_port", async () => {
  const { base, close } = await fakeServer(() => ({ body: "{}" }));
  await close();
  const port = new URL(base).port;
  const error = await new RestClient({ baseUrl: base }).modelStatus("m").then(
    () => assert.fail("expected a rejection"),
    (e: unknown) => e,
  );
  assert.ok(error instanceof UnreachableError);
  assert.equal(error.exitCode, ExitCode.unreachable);
  assert.equal(error.where, `${base}/v1/models/m`);
  assert.match(error.message, /ECONNREFUSED/);
  assert.match(error.hint ?? "", new RegExp(`--rest_api_port=${port}`));
  assert.match(error.hint ?? "", new RegExp(base.replace(/[.]/g, "\\.")));
});

test("a server that never answers hits the call's deadline as an UnreachableError", async () => {
  const { base, seen } = await fakeServer(() => "hang");
  await assert.rejects(
    new RestClient({ baseUrl: base, timeoutMs: 50 }).modelStatus("m"),
    (e: unknown) => e instanceof UnreachableError && /did not answer GET within 50 ms/.test(e.message),
  );
  assert.equal(seen.length, 1);
});

test("a base URL that is not http(s) is a UsageError", () => {
  assert.throws(() => new RestClient({ baseUrl: "127.0.0.1:8501" }), UsageError);
  assert.throws(() => new RestClient({ baseUrl: "not a url" }), UsageError);
});

test(
  "conformance: TF Serving's own half_plus_two metadata JSON parses through modelMetadata",
  { skip: fixturesSkip() },
  async () => {
    const body = readFileSync(join(TFSERVING_TESTDATA, "half_plus_two_model_metadata.json"), "utf8");
    const { base } = await fakeServer(() => ({ body }));
    const metadata = await new RestClient({ baseUrl: base }).modelMetadata("default", { version: 123 });
    assert.deepEqual(metadata.model_spec, { name: "default", signature_name: "", version: "123" });
    assert.deepEqual(Object.keys(metadata.signature_def).sort(), [
      "classify_x_to_y",
      "regress_x2_to_y3",
      "regress_x_to_y",
      "regress_x_to_y2",
      "serving_default",
    ]);
    const serving = metadata.signature_def.serving_default!;
    assert.equal(serving.method_name, "tensorflow/serving/predict");
    assert.equal(serving.inputs?.x?.dtype, "DT_FLOAT");
    assert.deepEqual(
      serving.inputs?.x?.tensor_shape?.dim?.map((d) => d.size),
      ["-1", "1"],
    );
    assert.equal(metadata.signature_def.classify_x_to_y?.inputs?.inputs?.tensor_shape?.unknown_rank, true);
  },
);
