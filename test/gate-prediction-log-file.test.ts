import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, test } from "node:test";
import { RolloutError } from "../src/errors.js";
import { preparedFromPredictRequest, readPredictionLogs } from "../src/gate/prediction-log-file.js";
import { encodeTensor } from "../src/tensor/codec.js";
import { encodeWarmupLogs } from "../src/warmup/writer.js";
import { tempDir } from "./helpers/emulator-harness.js";

const tmp = tempDir("tfs-predlog-");
after(() => tmp.cleanup());

const x = encodeTensor([1, 2], { dtype: "DT_FLOAT", shape: [2, 1] });

test("predict logs become requests (signature kept) with their responses as expected outputs", () => {
  const file = join(tmp.dir, "logs");
  writeFileSync(
    file,
    encodeWarmupLogs([
      {
        predict_log: {
          request: { model_spec: { name: "other", signature_name: "sig" }, inputs: { x } },
          response: { outputs: { y: encodeTensor([3n], { dtype: "DT_INT64", shape: [1] }) } },
        },
      },
      { classify_log: {} },
      { predict_log: { request: { inputs: { x } } } },
    ]),
  );
  const logs = readPredictionLogs(file);
  assert.equal(logs.length, 2, "the classify log is not a predict golden");
  assert.deepEqual(logs[0]!.request, {
    label: "logs #1",
    signature: "sig",
    inputs: { x: { dtype: "DT_FLOAT", shape: [2, 1], values: [1, 2] } },
    batch: 2,
  });
  assert.deepEqual(logs[0]!.expected, { y: { dtype: "DT_INT64", shape: [1], values: [3n] } });
  assert.equal(logs[1]!.request.signature, "serving_default");
  assert.equal(logs[1]!.request.label, "logs #3");
  assert.equal(logs[1]!.expected, undefined);
});

test("bad files are RolloutErrors naming the file", () => {
  const empty = join(tmp.dir, "empty");
  writeFileSync(empty, encodeWarmupLogs([{ classify_log: {} }]));
  assert.throws(() => readPredictionLogs(empty), {
    name: "RolloutError",
    message: `no predict_log records in ${empty}`,
  });
  const torn = join(tmp.dir, "torn");
  writeFileSync(torn, encodeWarmupLogs([{ predict_log: { request: { inputs: { x } } } }]).subarray(0, 20));
  assert.throws(
    () => readPredictionLogs(torn),
    (error: unknown) => error instanceof RolloutError && error.where === `${torn}@0`,
  );
  assert.throws(() => readPredictionLogs(join(tmp.dir, "absent")), /cannot read/);
});

test("preparedFromPredictRequest names the record in decoding errors", () => {
  const torn = { dtype: "DT_FLOAT", tensor_content: Buffer.alloc(3), tensor_shape: { dim: [{ size: "1" }] } };
  assert.throws(
    () => preparedFromPredictRequest({ inputs: { x: torn } }, "r", "file@9"),
    (error: unknown) =>
      error instanceof RolloutError &&
      /3 bytes/.test(error.message) &&
      String(error.where).includes('file@9 input "x"'),
  );
});
