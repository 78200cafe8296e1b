import assert from "node:assert/strict";
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { RolloutError } from "../src/errors.js";
import { readWarmupFile, MAX_WARMUP_RECORDS } from "../src/warmup/reader.js";
import { encodeTfRecord } from "../src/warmup/tfrecord.js";
import { encodeWarmupLogs, writeWarmupFile } from "../src/warmup/writer.js";
import { FIXTURES_DIR, fixturesSkip } from "./helpers/fixtures.js";

const request = (values: number[]) => ({
  model_spec: { name: "m", signature_name: "serving_default" },
  inputs: {
    x: { dtype: "DT_FLOAT", tensor_shape: { dim: [{ size: String(values.length) }] }, float_val: values },
  },
});

function tempDir(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), "warmup-reader-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test("predict requests written by writeWarmupFile come back as PredictRequest plain objects", (t) => {
  const path = join(tempDir(t), "assets.extra", "tf_serving_warmup_requests");
  writeWarmupFile(path, [request([1, 2]), request([3])]);
  const summary = readWarmupFile(path);
  assert.equal(summary.records, 2);
  assert.equal(summary.predict, 2);
  assert.deepEqual(summary.problems, []);
  assert.equal(summary.moreThanMax, false);
  assert.deepEqual(summary.predictRequests[0], request([1, 2]));
  assert.deepEqual(summary.predictRequests[1], request([3]));
});

test("other log kinds are counted; session_run and predict_streamed are reported as TF load failures", (t) => {
  const path = join(tempDir(t), "w");
  const sessionRun = encodeTfRecord(Buffer.from([0x2a, 0x00])); // field 5 (session_run_log), empty message
  const logs = encodeWarmupLogs([
    { classify_log: { request: {} } },
    { regress_log: { request: {} } },
    { multi_inference_log: { request: {} } },
    { predict_streamed_log: { request: [request([1])] } },
    { log_metadata: { model_spec: { name: "m" } } },
    { predict_log: { request: request([9]) } },
  ]);
  writeFileSync(path, Buffer.concat([logs, sessionRun]));
  const summary = readWarmupFile(path);
  assert.equal(summary.records, 7);
  assert.equal(summary.predict, 1);
  assert.deepEqual(summary.kinds, {
    predict: 1,
    classify: 1,
    regress: 1,
    multi_inference: 1,
    predict_streamed: 1,
    session_run: 1,
    none: 1,
  });
  assert.deepEqual(summary.problems, [
    "Unsupported log_type for warmup: 5 (1 record(s))",
    "Unsupported log_type for warmup: 7 (1 record(s))",
  ]);
});

test("at most 1000 records are read, and more is reported with TF's wording", (t) => {
  const path = join(tempDir(t), "w");
  writeWarmupFile(
    path,
    Array.from({ length: MAX_WARMUP_RECORDS + 2 }, (_, i) => request([i])),
  );
  const summary = readWarmupFile(path);
  assert.equal(summary.records, MAX_WARMUP_RECORDS);
  assert.equal(summary.moreThanMax, true);
  assert.deepEqual(summary.problems, [`Number of warmup records exceeds the maximum (1000) at ${path}`]);
  assert.deepEqual(summary.predictRequests[999], request([999]));
});

test("a corrupt file names the record index and byte offset; a non-PredictionLog record fails to parse", (t) => {
  const dir = tempDir(t);
  const path = join(dir, "w");
  writeWarmupFile(path, [request([1]), request([2])]);
  const bytes = readFileSync(path);
  const second = bytes.length / 2;
  bytes.writeUInt8(bytes.readUInt8(second + 14) ^ 0xff, second + 14);
  writeFileSync(path, bytes);
  assert.throws(
    () => readWarmupFile(path),
    (error: unknown) =>
      error instanceof RolloutError &&
      error.where === `${path}@${second}` &&
      /data CRC mismatch in warmup record 1 at byte offset \d+\. Please verify your warmup data is in TFRecord format\./.test(
        error.message,
      ),
  );
  const notALog = join(dir, "n");
  writeFileSync(notALog, encodeTfRecord(Buffer.from([0x32, 0x05, 0x01])));
  assert.throws(() => readWarmupFile(notALog), /Failed to parse warmup record: record 0 at byte offset 0/);
});

const FIXTURE = join(FIXTURES_DIR, "warmup", "half_plus_two_x3", "tf_serving_warmup_requests");

test(
  "conformance: the half_plus_two_x3 fixture is 1 predict record, x = DT_FLOAT [3,1] [1,2,5]",
  { skip: fixturesSkip() },
  () => {
    const summary = readWarmupFile(FIXTURE);
    assert.equal(summary.records, 1);
    assert.equal(summary.predict, 1);
    const request = summary.predictRequests[0] as { model_spec: unknown; inputs: Record<string, unknown> };
    assert.deepEqual(request.model_spec, { name: "half_plus_two", signature_name: "serving_default" });
    assert.deepEqual(request.inputs.x, {
      dtype: "DT_FLOAT",
      tensor_shape: { dim: [{ size: "3" }, { size: "1" }] },
      float_val: [1, 2, 5],
    });
  },
);

test(
  "conformance: one corrupted byte in a copy of the fixture gives the located error",
  { skip: fixturesSkip() },
  (t) => {
    const copy = join(tempDir(t), "tf_serving_warmup_requests");
    copyFileSync(FIXTURE, copy);
    const bytes = readFileSync(copy);
    bytes.writeUInt8(bytes.readUInt8(40) ^ 0x01, 40);
    writeFileSync(copy, bytes);
    assert.throws(() => readWarmupFile(copy), {
      message: /data CRC mismatch in warmup record 0 at byte offset 0/,
      where: `${copy}@0`,
    });
  },
);
