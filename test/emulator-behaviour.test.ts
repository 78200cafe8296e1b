import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import {
  BEHAVIOUR_FILE,
  computeOutputs,
  DEFAULT_BEHAVIOUR,
  readBehaviour,
  runPredict,
  type Behaviour,
} from "../src/emulator/behaviour.js";
import { ServingError, type SignatureDefPlain, type TensorInfoPlain } from "../src/emulator/serving-api.js";
import { UsageError } from "../src/errors.js";
import { messageType } from "../src/proto/registry.js";
import { decodeTensor, encodeTensor, type DecodedTensor } from "../src/tensor/codec.js";
import { fixturesSkip, TFSERVING_TESTDATA } from "./helpers/fixtures.js";

const tmp = mkdtempSync(join(tmpdir(), "emulator-behaviour-"));
after(() => rmSync(tmp, { recursive: true, force: true }));

let dirCount = 0;
function versionDir(emulatorJson?: string): string {
  const dir = join(tmp, String(++dirCount));
  mkdirSync(join(dir, "assets.extra"), { recursive: true });
  if (emulatorJson !== undefined) writeFileSync(join(dir, BEHAVIOUR_FILE), emulatorJson);
  return dir;
}

const info = (dtype: string, name = "t:0"): TensorInfoPlain => ({ dtype, name });

function signature(
  inputs: Record<string, string>,
  outputs: Record<string, string>,
  method = "tensorflow/serving/predict",
): SignatureDefPlain {
  const map = (m: Record<string, string>) =>
    Object.fromEntries(Object.entries(m).map(([k, d]) => [k, info(d)]));
  return { method_name: method, inputs: map(inputs), outputs: map(outputs) };
}

const HALF_PLUS_TWO = signature({ x: "DT_FLOAT" }, { y: "DT_FLOAT" });

function floats(values: number[][]): DecodedTensor {
  return decodeTensor(encodeTensor(values, { dtype: "DT_FLOAT" }));
}

function outputOf(
  behaviour: Behaviour,
  sig: SignatureDefPlain,
  inputs: Record<string, DecodedTensor>,
  alias = "y",
) {
  return decodeTensor(computeOutputs(behaviour, sig, inputs)[alias]!);
}

test("§5 default behaviour is half_plus_two: [[1,2],[3,4]] → [[2.5,3],[3.5,4]] in float_val", () => {
  const outputs = computeOutputs(DEFAULT_BEHAVIOUR, HALF_PLUS_TWO, {
    x: floats([
      [1, 2],
      [3, 4],
    ]),
  });
  assert.deepEqual(outputs.y, {
    dtype: "DT_FLOAT",
    tensor_shape: { dim: [{ size: "2" }, { size: "2" }] },
    float_val: [2.5, 3, 3.5, 4],
  });
});

test(
  "§7 behaviour: the real fixture version directories have no emulator.json, so they get the default",
  { skip: fixturesSkip() },
  () => {
    const behaviour = readBehaviour(join(TFSERVING_TESTDATA, "saved_model_half_plus_two_cpu", "00000123"));
    assert.deepEqual(behaviour, { ...DEFAULT_BEHAVIOUR });
  },
);

test("behaviour: assets.extra/emulator.json overrides every knob", () => {
  const dir = versionDir(
    JSON.stringify({
      scale: 2,
      offset: -1,
      nan_outputs: false,
      output_shape: [1],
      predict_error: { code: "INTERNAL", message: "boom" },
      latency_ms: 25,
      load_error: { code: "NOT_FOUND", message: "gone" },
      load_delay_ms: 100,
    }),
  );
  const behaviour = readBehaviour(dir);
  assert.deepEqual(behaviour, {
    scale: 2,
    offset: -1,
    nanOutputs: false,
    outputShape: [1],
    predictError: { code: "INTERNAL", message: "boom" },
    latencyMs: 25,
    loadError: { code: "NOT_FOUND", message: "gone" },
    loadDelayMs: 100,
    source: join(dir, BEHAVIOUR_FILE),
  });
  assert.deepEqual(outputOf(behaviour, HALF_PLUS_TWO, { x: floats([[3], [4]]) }).values, [5]);
  assert.deepEqual(outputOf(behaviour, HALF_PLUS_TWO, { x: floats([[3], [4]]) }).shape, [1]);
  assert.deepEqual(readBehaviour(versionDir()), { ...DEFAULT_BEHAVIOUR });
});

test("behaviour: nan_outputs makes floating outputs NaN and leaves integer outputs computed", () => {
  const behaviour = { ...DEFAULT_BEHAVIOUR, nanOutputs: true };
  const sig = signature({ x: "DT_FLOAT" }, { y: "DT_FLOAT", n: "DT_INT32" });
  const outputs = computeOutputs(behaviour, sig, { x: floats([[4]]) });
  assert.ok(Number.isNaN(decodeTensor(outputs.y!).values[0]));
  assert.deepEqual(decodeTensor(outputs.n!).values, [4]);
});

test("behaviour: invalid emulator.json gives a UsageError naming the file, the key and the fix", () => {
  const cases: [string, RegExp][] = [
    ["{not json", /not valid JSON/],
    ['{"scael": 1}', /Unrecognized key.*scael/i],
    [
      '{"predict_error": {"code": "OOPS", "message": "x"}}',
      /predict_error\.code: must be a tensorflow\.error\.Code name/,
    ],
    ['{"latency_ms": -5}', /latency_ms/],
    ['{"output_shape": [1.5]}', /output_shape\.0/],
  ];
  for (const [text, message] of cases) {
    const dir = versionDir(text);
    assert.throws(
      () => readBehaviour(dir),
      (error: unknown) => {
        assert.ok(error instanceof UsageError, text);
        assert.match(error.message, message, text);
        assert.equal(error.where, join(dir, BEHAVIOUR_FILE));
        assert.ok(error.hint, text);
        return true;
      },
    );
  }
});

test("behaviour: outputs take each output's dtype (integers truncate like a C cast, int64 exact as strings)", () => {
  const sig = signature({ x: "DT_FLOAT" }, { f: "DT_DOUBLE", i: "DT_INT32", l: "DT_INT64", b: "DT_BOOL" });
  const outputs = computeOutputs(DEFAULT_BEHAVIOUR, sig, { x: floats([[3], [-4]]) });
  assert.deepEqual(outputs.f!.double_val, [3.5, 0]);
  assert.deepEqual(outputs.i!.int_val, [3, 0]);
  assert.deepEqual(outputs.l!.int64_val, ["3", "0"]);
  assert.deepEqual(outputs.b!.bool_val, [true, false]);
});

test("behaviour: with several inputs the alias that sorts first feeds every output; no inputs gives the scalar offset", () => {
  const sig = signature({ b: "DT_FLOAT", a: "DT_FLOAT" }, { y: "DT_FLOAT" });
  const y = outputOf(DEFAULT_BEHAVIOUR, sig, { b: floats([[100]]), a: floats([[2], [4]]) });
  assert.deepEqual(y.values, [3, 4]);
  const counter = signature({}, { output: "DT_FLOAT_REF" });
  const out = computeOutputs(DEFAULT_BEHAVIOUR, counter, {}).output!;
  assert.deepEqual(out, { dtype: "DT_FLOAT", tensor_shape: {}, float_val: [2] });
});

test("§2 behaviour: a DT_STRING input of serialized tf.Examples is read through its first numeric feature", () => {
  const example = messageType("tensorflow.Example");
  const bytes = (x: number) =>
    Buffer.from(
      example
        .encode(example.fromObject({ features: { feature: { x: { float_list: { value: [x] } } } } }))
        .finish(),
    );
  const sig = signature({ inputs: "DT_STRING" }, { outputs: "DT_FLOAT" }, "tensorflow/serving/regress");
  const inputs = { inputs: decodeTensor(encodeTensor([bytes(2), bytes(4)], { dtype: "DT_STRING" })) };
  const y = outputOf(DEFAULT_BEHAVIOUR, sig, inputs, "outputs");
  assert.deepEqual(y.shape, [2, 1]);
  assert.deepEqual(y.values, [3, 4]);
});

test("§5 behaviour: TF Serving's Predict checks with their exact messages", () => {
  const two = signature({ x: "DT_FLOAT", x2: "DT_FLOAT" }, { y: "DT_FLOAT", y2: "DT_FLOAT" });
  const check = (fn: () => unknown, code: string, message: string) =>
    assert.throws(fn, (error: unknown) => {
      assert.ok(error instanceof ServingError);
      assert.equal(error.code, code);
      assert.equal(error.message, message);
      return true;
    });
  check(
    () => computeOutputs(DEFAULT_BEHAVIOUR, two, { x: floats([[1]]), z: floats([[1]]), w: floats([[1]]) }),
    "INVALID_ARGUMENT",
    "input size does not match signature: 3!=2 len({w,x,z}) != len({x,x2}). Sent extra: {w,z}. Missing but required: {x2}.",
  );
  check(
    () => computeOutputs(DEFAULT_BEHAVIOUR, two, { x: floats([[1]]), z: floats([[1]]) }),
    "INVALID_ARGUMENT",
    "input tensor alias not found in signature: z. Inputs expected to be in the set {x,x2}.",
  );
  const inputs = { x: floats([[1]]), x2: floats([[1]]) };
  check(
    () => computeOutputs(DEFAULT_BEHAVIOUR, two, inputs, ["q"]),
    "INVALID_ARGUMENT",
    "output tensor alias not found in signature: q Outputs expected to be in the set {y,y2}.",
  );
  check(
    () => computeOutputs(DEFAULT_BEHAVIOUR, two, inputs, ["y", "y"]),
    "INVALID_ARGUMENT",
    "duplicate output tensor alias: y",
  );
  check(
    () =>
      computeOutputs(DEFAULT_BEHAVIOUR, signature({ x: "DT_FLOAT" }, { y: "DT_FLOAT" }, ""), {
        x: floats([[1]]),
      }),
    "INTERNAL",
    "Expected prediction signature method_name to be one of {tensorflow/serving/predict, tensorflow/serving/classify, tensorflow/serving/regress}. Was: ",
  );
  check(
    () =>
      computeOutputs(DEFAULT_BEHAVIOUR, HALF_PLUS_TWO, {
        x: decodeTensor(encodeTensor([1], { dtype: "DT_DOUBLE" })),
      }),
    "INVALID_ARGUMENT",
    "Expects arg[0] to be float but double is provided",
  );
  assert.deepEqual(Object.keys(computeOutputs(DEFAULT_BEHAVIOUR, two, inputs, ["y2"])), ["y2"]);
});

test("behaviour: runPredict checks the request, then waits latency_ms, then fails with predict_error", async () => {
  const waited: number[] = [];
  const sleep = async (ms: number) => {
    waited.push(ms);
  };
  const behaviour: Behaviour = {
    ...DEFAULT_BEHAVIOUR,
    latencyMs: 40,
    predictError: { code: "RESOURCE_EXHAUSTED", message: "full" },
  };
  const x = encodeTensor([[2]], { dtype: "DT_FLOAT" });
  await assert.rejects(runPredict(behaviour, HALF_PLUS_TWO, { x }, undefined, sleep), {
    code: "RESOURCE_EXHAUSTED",
    message: "full",
  });
  assert.deepEqual(waited, [40]);
  await assert.rejects(runPredict(behaviour, HALF_PLUS_TWO, { z: x }, undefined, sleep), {
    code: "INVALID_ARGUMENT",
  });
  assert.deepEqual(waited, [40], "a request TF would reject does not wait");
  const ok = await runPredict({ ...DEFAULT_BEHAVIOUR, latencyMs: 5 }, HALF_PLUS_TWO, { x }, undefined, sleep);
  assert.deepEqual(ok.y!.float_val, [3]);
  assert.deepEqual(waited, [40, 5]);
});
