import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { request as httpRequest } from "node:http";
import { join } from "node:path";
import { after, test } from "node:test";
import { readSavedModel } from "../src/savedmodel/reader.js";
import type { TensorSpec } from "../src/savedmodel/signature.js";
import { DEFAULT_BEHAVIOUR, runPredict, type Behaviour } from "../src/emulator/behaviour.js";
import { CallLog } from "../src/emulator/call-log.js";
import { Faults } from "../src/emulator/faults.js";
import { predictRequestFromJson } from "../src/emulator/rest-predict-json.js";
import { formatG, writeDecimal } from "../src/emulator/rest-json-write.js";
import { startRestServer } from "../src/emulator/rest-server.js";
import {
  ServingError,
  type ModelSpecPlain,
  type ModelVersionStatusPlain,
  type PredictRequestPlain,
  type ServingApi,
  type SignatureDefPlain,
  type TensorInfoPlain,
} from "../src/emulator/serving-api.js";
import { parseLenientJson } from "../src/tfserving/lenient-json.js";
import { fixturesSkip, TFSERVING_TESTDATA } from "./helpers/fixtures.js";

interface FakeModel {
  versions: Record<string, ModelVersionStatusPlain["state"]>;
  labels?: Record<string, string>;
  signatures: Record<string, SignatureDefPlain>;
  behaviour?: Behaviour;
}

/** A ServingApi over fixed models, resolving specs like TF Serving and predicting through behaviour.ts. */
function fakeApi(models: Record<string, FakeModel>) {
  const predicts: PredictRequestPlain[] = [];
  const resolve = (spec: ModelSpecPlain): { model: FakeModel; version: string } => {
    const model = models[spec.name];
    if (!model) throw new ServingError("NOT_FOUND", `Servable not found for request: Latest(${spec.name})`);
    let version = spec.version?.value;
    if (spec.version_label !== undefined) {
      version = model.labels?.[spec.version_label];
      if (version === undefined)
        throw new ServingError(
          "INVALID_ARGUMENT",
          `Unrecognized servable version label: ${spec.version_label}`,
        );
    }
    const available = Object.keys(model.versions).filter((v) => model.versions[v] === "AVAILABLE");
    if (version === undefined) version = available.sort((a, b) => Number(b) - Number(a))[0]!;
    if (!available.includes(version))
      throw new ServingError(
        "NOT_FOUND",
        `Servable not found for request: Specific(${spec.name}, ${version})`,
      );
    return { model, version };
  };
  const api: ServingApi = {
    modelStatus(name, version) {
      const model = models[name];
      if (!model) throw new ServingError("NOT_FOUND", `Could not find any versions of model ${name}`);
      const all = Object.entries(model.versions).map(([v, state]) => ({
        version: v,
        state,
        status: { error_code: "OK", error_message: "" },
      }));
      if (version === undefined) return all.reverse();
      const one = all.filter((s) => s.version === version);
      if (!one.length)
        throw new ServingError("NOT_FOUND", `Could not find version ${version} of model ${name}`);
      return one;
    },
    modelMetadata(spec) {
      const { model, version } = resolve(spec);
      return {
        model_spec: { name: spec.name, version: { value: version } },
        signature_def: model.signatures,
      };
    },
    async predict(request) {
      predicts.push(request);
      const { model, version } = resolve(request.model_spec);
      const name = request.model_spec.signature_name || "serving_default";
      const signature = model.signatures[name];
      if (!signature)
        throw new ServingError("FAILED_PRECONDITION", `Serving signature key "${name}" not found.`);
      const outputs = await runPredict(
        model.behaviour ?? DEFAULT_BEHAVIOUR,
        signature,
        request.inputs,
        request.output_filter,
      );
      return {
        model_spec: { name: request.model_spec.name, version: { value: version }, signature_name: name },
        outputs,
      };
    },
  };
  return { api, predicts };
}

function infoOf(spec: TensorSpec): TensorInfoPlain {
  return {
    dtype: spec.dtype,
    tensor_shape:
      spec.shape === null
        ? { unknown_rank: true }
        : { dim: spec.shape.map((size) => ({ size: String(size) })) },
    ...(spec.name !== undefined ? { name: spec.name } : {}),
  };
}

/** The fixture's signatures (via readSavedModel) as SignatureDefPlain, as the core hands them to REST. */
function fixtureSignatures(versionDir: string): Record<string, SignatureDefPlain> {
  const model = readSavedModel(versionDir);
  return Object.fromEntries(
    Object.entries(model.signatures).map(([key, sig]) => [
      key,
      {
        method_name: sig.method,
        inputs: Object.fromEntries(Object.entries(sig.inputs).map(([a, s]) => [a, infoOf(s)])),
        outputs: Object.fromEntries(Object.entries(sig.outputs).map(([a, s]) => [a, infoOf(s)])),
      },
    ]),
  );
}

const floatInfo = (name: string): TensorInfoPlain => ({
  dtype: "DT_FLOAT",
  tensor_shape: { dim: [{ size: "-1" }, { size: "1" }] },
  name,
});

/** half_plus_two's serving_default, written by hand (tests that must not depend on the fixtures). */
const HALF_PLUS_TWO: SignatureDefPlain = {
  method_name: "tensorflow/serving/predict",
  inputs: { x: floatInfo("x:0") },
  outputs: { y: floatInfo("y:0") },
};

interface Reply {
  status: number;
  contentType: string | undefined;
  body: string;
}

function send(base: string, method: string, path: string, body?: string): Promise<Reply> {
  // node:http rather than fetch: fetch normalises paths (e.g. "%2F"), and these tests need the exact target.
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${base}${path}`, { method, path }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => (text += chunk));
      res.on("end", () =>
        resolve({ status: res.statusCode!, contentType: res.headers["content-type"], body: text }),
      );
    });
    req.on("error", reject);
    req.end(body);
  });
}

async function startServer(models: Record<string, FakeModel>, options: { now?: () => number } = {}) {
  const { api, predicts } = fakeApi(models);
  const faults = new Faults(options.now ? { now: options.now } : {});
  const callLog = new CallLog();
  const server = await startRestServer({ api, faults, callLog });
  after(() => server.close());
  const call = (method: string, path: string, body?: string) => send(server.url, method, path, body);
  return { call, faults, callLog, predicts, server };
}

const defaultModel = (extra: Partial<FakeModel> = {}): FakeModel => ({
  versions: { "123": "AVAILABLE" },
  signatures: { serving_default: HALF_PLUS_TWO },
  ...extra,
});

test(
  "§5 metadata: GET …/metadata equals TF Serving's half_plus_two_model_metadata.json",
  { skip: fixturesSkip() },
  async () => {
    const dir = join(TFSERVING_TESTDATA, "saved_model_half_plus_two_cpu", "00000123");
    const { call } = await startServer({
      default: { versions: { "123": "AVAILABLE" }, signatures: fixtureSignatures(dir) },
    });
    const reply = await call("GET", "/v1/models/default/metadata");
    assert.equal(reply.status, 200);
    assert.equal(reply.contentType, "application/json");
    const expected = JSON.parse(
      readFileSync(join(TFSERVING_TESTDATA, "half_plus_two_model_metadata.json"), "utf8"),
    );
    assert.deepEqual(JSON.parse(reply.body), expected);
  },
);

test(
  "§5 metadata: the 2-version model by version equals saved_model_half_plus_two_2_versions_metadata.json",
  { skip: fixturesSkip() },
  async () => {
    const name = "saved_model_half_plus_two_2_versions";
    const { call } = await startServer({
      [name]: {
        versions: { "123": "AVAILABLE", "124": "AVAILABLE" },
        signatures: fixtureSignatures(join(TFSERVING_TESTDATA, name, "00000123")),
      },
    });
    const reply = await call("GET", `/v1/models/${name}/versions/123/metadata`);
    assert.equal(reply.status, 200);
    const expected = JSON.parse(readFileSync(join(TFSERVING_TESTDATA, `${name}_metadata.json`), "utf8"));
    assert.deepEqual(JSON.parse(reply.body), expected);
  },
);

test(
  "§5 predict: the real 2-version model answers [[1,2],[3,4]] with [[2.5,3.0],[3.5,4.0]]",
  { skip: fixturesSkip() },
  async () => {
    const name = "saved_model_half_plus_two_2_versions";
    const { call } = await startServer({
      [name]: {
        versions: { "124": "AVAILABLE" },
        signatures: fixtureSignatures(join(TFSERVING_TESTDATA, name, "00000124")),
      },
    });
    const reply = await call("POST", `/v1/models/${name}:predict`, '{"instances": [[1.0, 2.0], [3.0, 4.0]]}');
    assert.equal(reply.status, 200, reply.body);
    assert.equal(reply.body, '{\n    "predictions": [[2.5, 3.0], [3.5, 4.0]\n    ]\n}');
  },
);

test("§5 predict reference: instances [2.0, 3.0, 4.0] → predictions [3.0, 3.5, 4.0] with rapidjson's layout", async () => {
  const { call } = await startServer({ half_plus_two: defaultModel() });
  const reply = await call("POST", "/v1/models/half_plus_two:predict", '{"instances": [2.0, 3.0, 4.0]}');
  assert.equal(reply.status, 200);
  assert.equal(reply.contentType, "application/json");
  assert.equal(reply.body, '{\n    "predictions": [3.0, 3.5, 4.0\n    ]\n}');
  assert.deepEqual(JSON.parse(reply.body), { predictions: [3, 3.5, 4] });
});

test("§5 predict reference: columnar inputs → outputs [3.0, 3.5, 4.0]", async () => {
  const { call } = await startServer({ half_plus_two: defaultModel() });
  const reply = await call(
    "POST",
    "/v1/models/half_plus_two/versions/123:predict",
    '{"inputs": [2.0, 3.0, 4.0]}',
  );
  assert.equal(reply.status, 200);
  assert.equal(reply.body, '{\n    "outputs": [\n        3.0,\n        3.5,\n        4.0\n    ]\n}');
});

test("§5 predict: several outputs give a list of objects (row) and an object of lists (columnar)", async () => {
  const signature: SignatureDefPlain = {
    method_name: "tensorflow/serving/predict",
    inputs: { x: floatInfo("x:0") },
    outputs: { y: floatInfo("y:0"), z: { dtype: "DT_DOUBLE", name: "z:0" } },
  };
  const { call, predicts } = await startServer({
    m: defaultModel({ signatures: { serving_default: signature } }),
  });
  const row = await call("POST", "/v1/models/m:predict", '{"instances": [[1.0], [2.0]]}');
  assert.equal(row.status, 200, row.body);
  assert.deepEqual(JSON.parse(row.body), {
    predictions: [
      { y: [2.5], z: [2.5] },
      { y: [3], z: [3] },
    ],
  });
  const columnar = await call("POST", "/v1/models/m:predict", '{"inputs": {"x": [[1.0], [2.0]]}}');
  assert.deepEqual(JSON.parse(columnar.body), { outputs: { y: [[2.5], [3]], z: [[2.5], [3]] } });
  assert.deepEqual(predicts[0]!.inputs.x, {
    dtype: "DT_FLOAT",
    tensor_shape: { dim: [{ size: "2" }, { size: "1" }] },
    float_val: [1, 2],
  });
});

test("§5 predict: NaN and Infinity tokens are accepted in requests and written bare in replies", async () => {
  const { call } = await startServer({
    nan: defaultModel({ behaviour: { ...DEFAULT_BEHAVIOUR, nanOutputs: true } }),
    plain: defaultModel(),
  });
  const nan = await call("POST", "/v1/models/nan:predict", '{"instances": [1.0]}');
  assert.equal(nan.body, '{\n    "predictions": [NaN\n    ]\n}');
  assert.throws(() => JSON.parse(nan.body));
  const inf = await call("POST", "/v1/models/plain:predict", '{"inputs": [Infinity, -Infinity, NaN]}');
  assert.equal(inf.status, 200, inf.body);
  assert.deepEqual(parseLenientJson(inf.body), { outputs: [Infinity, -Infinity, NaN] });
  assert.match(inf.body, /^\s+Infinity,$/m);
  assert.match(inf.body, /^\s+-Infinity,$/m);
});

test('§5 predict: {"b64": …} feeds DT_STRING inputs; only outputs whose alias ends in _bytes are written as b64', async () => {
  const stringInfo = (name: string): TensorInfoPlain => ({ dtype: "DT_STRING", name });
  const signature: SignatureDefPlain = {
    method_name: "tensorflow/serving/predict",
    inputs: { text: stringInfo("t:0") },
    outputs: { out_bytes: stringInfo("o:0"), out: stringInfo("p:0") },
  };
  const { call, predicts } = await startServer({
    s: defaultModel({ signatures: { serving_default: signature } }),
  });
  // A tf.Example-free string input cannot be computed from, so only check the request conversion here.
  await call("POST", "/v1/models/s:predict", '{"instances": [{"b64": "aGk="}, "yo"]}');
  assert.deepEqual(predicts[0]!.inputs.text!.string_val, [Buffer.from("hi"), Buffer.from("yo")]);
  const { predictResponseJson } = await import("../src/emulator/rest-predict-json.js");
  const body = predictResponseJson(
    {
      out_bytes: {
        dtype: "DT_STRING",
        tensor_shape: { dim: [{ size: "1" }] },
        string_val: [Buffer.from("hi")],
      },
      out: { dtype: "DT_STRING", tensor_shape: { dim: [{ size: "1" }] }, string_val: [Buffer.from("hi")] },
    },
    "columnar",
  );
  assert.deepEqual(JSON.parse(body), { outputs: { out: ["hi"], out_bytes: [{ b64: "aGk=" }] } });
});

test("§5 status: int64 strings, enum names, descending, always-printed OK status; a label is ignored", async () => {
  const { call } = await startServer({
    m: { versions: { "123": "END", "124": "AVAILABLE" }, signatures: { serving_default: HALF_PLUS_TWO } },
  });
  const expected = {
    model_version_status: [
      { version: "124", state: "AVAILABLE", status: { error_code: "OK", error_message: "" } },
      { version: "123", state: "END", status: { error_code: "OK", error_message: "" } },
    ],
  };
  const all = await call("GET", "/v1/models/m");
  assert.equal(all.status, 200);
  assert.equal(all.contentType, "application/json");
  assert.deepEqual(JSON.parse(all.body), expected);
  assert.match(all.body, /^\{\n "model_version_status": \[\n {2}\{\n {3}"version": "124",/);
  const labelled = await call("GET", "/v1/models/m/labels/no-such-label");
  assert.deepEqual(JSON.parse(labelled.body), expected);
  const one = await call("GET", "/v1/models/m/versions/123");
  assert.deepEqual(
    JSON.parse(one.body).model_version_status.map((s: { version: string }) => s.version),
    ["123"],
  );
});

test('§5 errors: NOT_FOUND → 404 with {"error"} pretty-printed at 4 spaces and no code field', async () => {
  const { call } = await startServer({ m: defaultModel() });
  const model = await call("GET", "/v1/models/nope");
  assert.equal(model.status, 404);
  assert.equal(model.contentType, "application/json");
  assert.equal(model.body, '{\n    "error": "Could not find any versions of model nope"\n}');
  const version = await call("GET", "/v1/models/m/versions/9");
  assert.equal(version.status, 404);
  assert.deepEqual(JSON.parse(version.body), { error: "Could not find version 9 of model m" });
});

test("§5 routes: malformed requests, missing model name, version overflow and non-/v1 paths", async () => {
  const { call } = await startServer({ m: defaultModel() });
  const cases: [string, string, number, string][] = [
    ["PUT", "/v1/models/m", 400, "Malformed request: PUT /v1/models/m"],
    [
      "GET",
      "/v1/models/m/versions/1/labels/x",
      400,
      "Malformed request: GET /v1/models/m/versions/1/labels/x",
    ],
    ["POST", "/v1/models/m", 400, "Malformed request: POST /v1/models/m"],
    ["POST", "/v1/models/m:PREDICT", 400, "Malformed request: POST /v1/models/m:PREDICT"],
    ["GET", "/v1/models", 400, "Missing model name in request."],
    [
      "GET",
      "/v1/models/m/versions/9223372036854775808",
      400,
      "Failed to convert version: 9223372036854775808 to numeric.",
    ],
  ];
  for (const [method, path, status, error] of cases) {
    const reply = await call(method, path);
    assert.equal(reply.status, status, `${method} ${path}`);
    assert.deepEqual(JSON.parse(reply.body), { error }, `${method} ${path}`);
  }
  const outside = await call("GET", "/v2/models/m");
  assert.equal(outside.status, 404);
  assert.match(outside.body, /<TITLE>404 Not Found<\/TITLE>/);
  // The routes see path AND query (TF's uri_path() is path_and_query), so a query string joins the model name.
  const query = await call("GET", "/v1/models/m?verbose=1");
  assert.equal(query.status, 404);
  assert.deepEqual(JSON.parse(query.body), { error: "Could not find any versions of model m?verbose=1" });
  // Case-insensitive routes: /V1/MODELS/… reaches the handler.
  assert.equal((await call("GET", "/V1/MODELS/m")).status, 200);
});

test("§5 routes: model names and labels are URL-decoded (%2F becomes /)", async () => {
  const { call, callLog } = await startServer({
    "team/model": defaultModel({ labels: { "can ary": "123" } }),
  });
  const status = await call("GET", "/v1/models/team%2Fmodel");
  assert.equal(status.status, 200, status.body);
  const predict = await call(
    "POST",
    "/v1/models/team%2Fmodel/labels/can%20ary:predict",
    '{"instances": [2.0]}',
  );
  assert.equal(predict.status, 200, predict.body);
  assert.deepEqual(callLog.last({ method: "Predict" }), {
    at: callLog.last()!.at,
    transport: "rest",
    method: "Predict",
    model: "team/model",
    label: "can ary",
    code: "OK",
  });
});

test("§5 predict error order: JSON parse errors come before the model lookup, then the signature, then values", async () => {
  const { call } = await startServer({ m: defaultModel() });
  const expectError = async (path: string, body: string, status: number, error: string | RegExp) => {
    const reply = await call("POST", path, body);
    assert.equal(reply.status, status, `${path} ${body}: ${reply.body}`);
    const message = (JSON.parse(reply.body) as { error: string }).error;
    if (typeof error === "string") assert.equal(message, error);
    else assert.match(message, error);
  };
  await expectError("/v1/models/nope:predict", "", 400, "JSON Parse error: The document is empty");
  await expectError(
    "/v1/models/nope:predict",
    "{",
    400,
    /^JSON Parse error: Missing a name for object member\. at offset: 1$/,
  );
  await expectError("/v1/models/nope:predict", "{}", 404, "Servable not found for request: Latest(nope)");
  await expectError(
    "/v1/models/m:predict",
    '{"signature_name": "other", "instances": [1.0]}',
    400,
    'Serving signature name: "other" not found in signature def',
  );
  await expectError(
    "/v1/models/m:predict",
    '{"instances": [1.0], "inputs": [1.0]}',
    400,
    /^JSON Value: \{[\s\S]*\} Not formatted correctly expecting only one of 'inputs' or 'instances' keys to exist $/,
  );
  await expectError("/v1/models/m:predict", "{}", 400, "Missing 'inputs' or 'instances' key");
  await expectError("/v1/models/m:predict", '{"instances": []}', 400, /No values in 'instances' array$/);
  await expectError(
    "/v1/models/m:predict",
    '{"inputs": ["a"]}',
    400,
    'JSON Value: "a" Type: String is not of expected type: float',
  );
  await expectError(
    "/v1/models/m:predict",
    '{"instances": [[1.0], 2.0]}',
    400,
    "Failed to process element: 1 of 'instances' list. Error: INVALID_ARGUMENT: Expecting shape [1] but got: []",
  );
});

test("§5 predict: only the dtypes REST converts; half gets UNIMPLEMENTED → 501", async () => {
  const half: SignatureDefPlain = {
    method_name: "tensorflow/serving/predict",
    inputs: { x: { dtype: "DT_HALF", name: "x:0" } },
    outputs: { y: { dtype: "DT_HALF", name: "y:0" } },
  };
  const { call } = await startServer({ h: defaultModel({ signatures: { serving_default: half } }) });
  const reply = await call("POST", "/v1/models/h:predict", '{"inputs": [1.5]}');
  assert.equal(reply.status, 501);
  assert.deepEqual(JSON.parse(reply.body), { error: "Conversion of JSON Value: 1.5 to type: half" });
});

test("§5 JSON conversion: int64 stays exact, 2.0 is not an int32, and 16777217 is not a lossless float", () => {
  const info = (dtype: string) => () => ({ x: { dtype } });
  const int64 = predictRequestFromJson(
    '{"inputs": [9007199254740993, -9223372036854775808]}',
    info("DT_INT64"),
  );
  assert.deepEqual(int64.inputs.x!.int64_val, ["9007199254740993", "-9223372036854775808"]);
  assert.throws(() => predictRequestFromJson('{"inputs": [2.0]}', info("DT_INT32")), {
    message: "JSON Value: 2.0 Type: Number is not of expected type: int32",
  });
  assert.throws(() => predictRequestFromJson('{"inputs": [16777217]}', info("DT_FLOAT")), {
    message: "Cannot convert JSON value: 16777217 to float without loss of precision.",
  });
  const multi = () => ({ a: { dtype: "DT_FLOAT" }, b: { dtype: "DT_INT32" } });
  assert.throws(() => predictRequestFromJson('{"instances": [1.0]}', multi), {
    message:
      "instances is a plain list, but expecting list of objects as multiple input tensors required as per tensorinfo_map",
  });
  assert.throws(() => predictRequestFromJson('{"instances": [{"a": 1.0}]}', multi), {
    message:
      /^Failed to process element: 0 of 'instances' list\. JSON object: \{\n {4}"a": 1\.0\n\} must only have keys: a,b$/,
  });
  const row = predictRequestFromJson('{"instances": [{"a": 1.0, "b": 2}, {"a": 3.0, "b": 4}]}', multi);
  assert.deepEqual(row.inputs.b, {
    dtype: "DT_INT32",
    tensor_shape: { dim: [{ size: "2" }] },
    int_val: [2, 4],
  });
});

test("§5 float output: six significant digits, else max_digits10; .0 on whole numbers but not on exponents", () => {
  assert.equal(writeDecimal(3, "float"), "3.0");
  assert.equal(writeDecimal(Math.fround(0.1), "float"), "0.1");
  assert.equal(writeDecimal(Math.fround(1 / 3), "float"), "0.333333343");
  assert.equal(writeDecimal(1 / 3, "double"), "0.33333333333333331");
  assert.equal(writeDecimal(9000000, "float"), "9e+06");
  assert.equal(writeDecimal(0.00003, "double"), "3e-05");
  assert.equal(writeDecimal(-2.5, "float"), "-2.5");
  assert.equal(formatG(123456789, 9), "123456789");
  assert.equal(formatG(0.0001, 6), "0.0001");
});

test('§5 classify and regress: tf.Example JSON → {"results": …} (regress [3.0], classify [[["", 3.0]]])', async () => {
  const stringInput = {
    inputs: { dtype: "DT_STRING", tensor_shape: { unknown_rank: true }, name: "tf_example:0" },
  };
  const { call } = await startServer({
    m: defaultModel({
      signatures: {
        regress_x_to_y: {
          method_name: "tensorflow/serving/regress",
          inputs: stringInput,
          outputs: { outputs: floatInfo("y:0") },
        },
        classify_x_to_y: {
          method_name: "tensorflow/serving/classify",
          inputs: stringInput,
          outputs: { scores: floatInfo("y:0") },
        },
      },
    }),
  });
  const regress = await call(
    "POST",
    "/v1/models/m:regress",
    '{"signature_name": "regress_x_to_y", "examples": [{"x": 2.0}]}',
  );
  assert.equal(regress.status, 200, regress.body);
  assert.equal(regress.body, '{\n    "results": [3.0]\n}');
  const classify = await call(
    "POST",
    "/v1/models/m:classify",
    '{"signature_name": "classify_x_to_y", "examples": [{"x": 2.0}]}',
  );
  assert.equal(classify.status, 200, classify.body);
  assert.deepEqual(JSON.parse(classify.body), { results: [[["", 3]]] });
  const wrong = await call(
    "POST",
    "/v1/models/m:regress",
    '{"signature_name": "classify_x_to_y", "examples": [{"x": 2.0}]}',
  );
  assert.equal(wrong.status, 400);
  assert.match(
    JSON.parse(wrong.body).error,
    /^Expected regression signature method_name to be tensorflow\/serving\/regress/,
  );
});

test("§5 faults: while unavailable REST answers 503 (or resets), then serves again when the clock passes", async () => {
  let now = 1_000;
  const { call, faults, callLog } = await startServer({ m: defaultModel() }, { now: () => now });
  faults.makeUnavailable(5);
  const down = await call("GET", "/v1/models/m");
  assert.equal(down.status, 503);
  assert.match(JSON.parse(down.body).error, /unavailable/);
  faults.makeUnavailable(5, { rest: "reset" });
  await assert.rejects(call("GET", "/v1/models/m"));
  now += 5_000;
  assert.equal((await call("GET", "/v1/models/m")).status, 200);
  assert.deepEqual(
    callLog.list().map((c) => [c.method, c.code]),
    [
      ["GetModelStatus", "UNAVAILABLE"],
      ["GET /v1/models/m", "UNAVAILABLE"],
      ["GetModelStatus", "OK"],
    ],
  );
});

test("§5 HTTP code table: every status code maps as ToHTTPStatusCode does", async () => {
  const { httpStatusOf } = await import("../src/emulator/rest-proto-json.js");
  const table: Record<string, number> = {
    OK: 200,
    CANCELLED: 499,
    UNKNOWN: 500,
    INVALID_ARGUMENT: 400,
    DEADLINE_EXCEEDED: 504,
    NOT_FOUND: 404,
    ALREADY_EXISTS: 409,
    PERMISSION_DENIED: 403,
    RESOURCE_EXHAUSTED: 429,
    FAILED_PRECONDITION: 400,
    ABORTED: 409,
    OUT_OF_RANGE: 400,
    UNIMPLEMENTED: 501,
    INTERNAL: 500,
    UNAVAILABLE: 503,
    DATA_LOSS: 500,
    UNAUTHENTICATED: 401,
    DO_NOT_USE_RESERVED_FOR_FUTURE_EXPANSION_USE_DEFAULT_IN_SWITCH_INSTEAD_: 500,
  };
  for (const [code, status] of Object.entries(table)) assert.equal(httpStatusOf(code), status, code);
});

test("§5 predict: a version's injected predict_error reaches the client with its HTTP code; calls are logged", async () => {
  const { call, callLog } = await startServer({
    busy: defaultModel({
      behaviour: {
        ...DEFAULT_BEHAVIOUR,
        predictError: { code: "RESOURCE_EXHAUSTED", message: "queue full" },
      },
    }),
  });
  const reply = await call("POST", "/v1/models/busy/versions/123:predict", '{"instances": [1.0]}');
  assert.equal(reply.status, 429);
  assert.deepEqual(JSON.parse(reply.body), { error: "queue full" });
  assert.deepEqual(callLog.list(), [
    {
      at: callLog.list()[0]!.at,
      transport: "rest",
      method: "Predict",
      model: "busy",
      version: "123",
      code: "RESOURCE_EXHAUSTED",
    },
  ]);
});

test("§5 classify and regress: request errors keep TF's wording (it says classify for regress too)", async () => {
  const { call } = await startServer({ m: defaultModel() });
  const missing = await call("POST", "/v1/models/m:regress", '{"signature_name": "r"}');
  assert.equal(missing.status, 400);
  assert.match(
    JSON.parse(missing.body).error,
    /^JSON Value: \{[\s\S]*\} When method is classify, key 'examples' is expected and was not found$/,
  );
  const empty = await call("POST", "/v1/models/m:regress", '{"examples": []}');
  assert.match(JSON.parse(empty.body).error, /'examples' value is an empty array$/);
  const unknown = await call(
    "POST",
    "/v1/models/m:regress",
    '{"signature_name": "r", "examples": [{"x": 1.0}]}',
  );
  assert.deepEqual(JSON.parse(unknown.body), { error: "No signature was found with the name: r" });
});
