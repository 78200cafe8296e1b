import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { runCli } from "../src/program.js";
import { writeSavedModel } from "../src/savedmodel/writer.js";
import { WARMUP_FILE } from "../src/warmup/reader.js";
import { writeWarmupFile } from "../src/warmup/writer.js";
import { captureIo } from "./helpers/capture-io.js";
import { fixturesSkip, TFSERVING_TESTDATA } from "./helpers/fixtures.js";

const signatures = {
  serving_default: {
    method: "tensorflow/serving/predict",
    inputs: { x: { dtype: "DT_FLOAT", shape: [-1, 1], name: "x:0" } },
    outputs: { y: { dtype: "DT_FLOAT", shape: [-1, 1], name: "y:0" } },
  },
  classify: {
    method: "tensorflow/serving/classify",
    inputs: { inputs: { dtype: "DT_STRING", shape: null, name: "tf_example:0" } },
    outputs: { scores: { dtype: "DT_FLOAT", shape: [-1, 1], name: "y:0" } },
  },
  shapes: {
    method: "tensorflow/serving/predict",
    inputs: { scalar: { dtype: "DT_INT64", shape: [], name: "s:0" } },
    outputs: { vector: { dtype: "DT_INT64", shape: [-1], name: "v:0" } },
  },
};

const request = {
  model_spec: { name: "m" },
  inputs: { x: { dtype: "DT_FLOAT", tensor_shape: { dim: [{ size: "1" }, { size: "1" }] }, float_val: [1] } },
};

function versionDir(t: { after(fn: () => void): void }, warmupRecords = 1): string {
  const dir = mkdtempSync(join(tmpdir(), "inspect-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeSavedModel(dir, { signatures, withVariables: true });
  if (warmupRecords > 0)
    writeWarmupFile(
      join(dir, WARMUP_FILE),
      Array.from({ length: warmupRecords }, () => request),
    );
  return dir;
}

test("--json prints exactly tags, signatures{method, inputs, outputs} and warmup{records, predict} on stdout", async (t) => {
  const dir = versionDir(t);
  const io = captureIo();
  assert.equal(await runCli(["inspect", dir, "--json"], io), 0);
  assert.equal(io.err, "");
  const json = JSON.parse(io.out);
  assert.deepEqual(json.tags, ["serve"]);
  assert.deepEqual(json.warmup.records, 1);
  assert.deepEqual(json.warmup.predict, 1);
  assert.deepEqual(Object.keys(json.signatures).sort(), ["classify", "serving_default", "shapes"]);
  const sd = json.signatures.serving_default;
  assert.equal(sd.method, "tensorflow/serving/predict");
  assert.deepEqual([sd.inputs.x.dtype, sd.inputs.x.shape], ["DT_FLOAT", [-1, 1]]);
  assert.deepEqual([sd.outputs.y.dtype, sd.outputs.y.shape], ["DT_FLOAT", [-1, 1]]);
  assert.equal(json.signatures.classify.inputs.inputs.shape, null);
  assert.equal(json.signatures.classify.inputs.inputs.dtype, "DT_STRING");
});

test("the readable report lists signatures like saved_model_cli and summarizes warmup", async (t) => {
  const dir = versionDir(t, 3);
  const io = captureIo();
  assert.equal(await runCli(["inspect", dir], io), 0);
  assert.match(io.out, /MetaGraphDef with tag-set: 'serve' contains the following SignatureDefs:/);
  assert.match(
    io.out,
    /signature_def\['serving_default'\]:\n {2}The given SavedModel SignatureDef contains the following input\(s\):\n {4}inputs\['x'\] tensor_info:\n {8}dtype: DT_FLOAT\n {8}shape: \(-1, 1\)\n {8}name: x:0\n/,
  );
  assert.match(io.out, /inputs\['inputs'\] tensor_info:\n {8}dtype: DT_STRING\n {8}shape: unknown_rank\n/);
  assert.match(io.out, /Method name is: tensorflow\/serving\/classify/);
  assert.match(io.out, /inputs\['scalar'\] tensor_info:\n {8}dtype: DT_INT64\n {8}shape: \(\)\n/);
  assert.match(io.out, /outputs\['vector'\] tensor_info:\n {8}dtype: DT_INT64\n {8}shape: \(-1,\)\n/);
  assert.match(io.out, /Warmup: 3 record\(s\) in assets.extra\/tf_serving_warmup_requests: 3 predict\n/);
});

test("no warmup file: warmup is null in --json and 'none' in the report", async (t) => {
  const dir = versionDir(t, 0);
  const io = captureIo();
  assert.equal(await runCli(["inspect", dir, "--json"], io), 0);
  assert.equal(JSON.parse(io.out).warmup, null);
  const text = captureIo();
  assert.equal(await runCli(["inspect", dir], text), 0);
  assert.match(text.out, /Warmup: none/);
});

test("--tags picks another meta graph; a tag set that matches none exits 1 with TF's NOT_FOUND wording", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "inspect-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeSavedModel(dir, { metaGraphs: [{ tags: ["serve", "gpu"], signatures }] });
  const io = captureIo();
  assert.equal(await runCli(["inspect", dir, "--json", "--tags", "serve,gpu"], io), 0);
  assert.deepEqual(JSON.parse(io.out).tags, ["serve", "gpu"]);
  const miss = captureIo();
  assert.equal(await runCli(["inspect", dir], miss), 1);
  assert.equal(miss.out, "");
  assert.match(
    miss.err,
    /Could not find meta graph def matching supplied tags: \{ serve \}.*Tag sets present: \{ serve gpu \}/,
  );
  assert.match(miss.err, /hint: /);
});

test("a nonexistent directory is a usage error (exit 2) naming the path tried", async () => {
  const io = captureIo();
  const missing = join(tmpdir(), "inspect-does-not-exist-4711");
  assert.equal(await runCli(["inspect", missing], io), 2);
  assert.match(io.err, new RegExp(`version directory not found: ${missing}`));
});

test("a corrupt warmup file or saved_model.pb exits 1 with a located error", async (t) => {
  const dir = versionDir(t);
  const warmup = join(dir, WARMUP_FILE);
  const bytes = readFileSync(warmup);
  bytes.writeUInt8(bytes.readUInt8(bytes.length - 1) ^ 0xff, bytes.length - 1);
  writeFileSync(warmup, bytes);
  const io = captureIo();
  assert.equal(await runCli(["inspect", dir, "--json"], io), 1);
  assert.equal(io.out, "");
  assert.match(
    io.err,
    new RegExp(`${warmup}@0: corrupted record: data CRC mismatch in warmup record 0 at byte offset 0`),
  );

  const pb = join(dir, "saved_model.pb");
  writeFileSync(pb, readFileSync(pb).subarray(0, 20));
  const corrupt = captureIo();
  assert.equal(await runCli(["inspect", dir], corrupt), 1);
  assert.match(corrupt.err, new RegExp(`${pb}@2: corrupt SavedModel at byte offset 2`));
});

test("TF load failures in warmup (over 1000 records) are warned about on stderr and listed in --json", async (t) => {
  const dir = versionDir(t, 1001);
  const io = captureIo();
  assert.equal(await runCli(["inspect", dir, "--json"], io), 0);
  const json = JSON.parse(io.out);
  assert.equal(json.warmup.records, 1000);
  assert.equal(json.warmup.moreThanMax, true);
  assert.match(io.err, /warning: .*Number of warmup records exceeds the maximum \(1000\)/);
});

test(
  "conformance: inspect --json on saved_model_half_plus_two_cpu/00000123",
  { skip: fixturesSkip() },
  async () => {
    const io = captureIo();
    const dir = join(TFSERVING_TESTDATA, "saved_model_half_plus_two_cpu", "00000123");
    assert.equal(await runCli(["inspect", dir, "--json"], io), 0);
    const json = JSON.parse(io.out);
    assert.equal(json.warmup, null);
    assert.deepEqual(json.signatures.serving_default.inputs.x.shape, [-1, 1]);
    assert.equal(json.signatures.classify_x_to_y.inputs.inputs.shape, null);
  },
);

test("a saved_model.pb that is not a readable file exits 1 naming it", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "inspect-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(join(dir, "saved_model.pb"));
  const io = captureIo();
  assert.equal(await runCli(["inspect", dir], io), 1);
  assert.match(io.err, new RegExp(`cannot read ${join(dir, "saved_model.pb")}: EISDIR`));
});
