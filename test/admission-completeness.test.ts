import assert from "node:assert/strict";
import { mkdirSync, readFileSync, rmSync, truncateSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { checkCompleteness, shardName } from "../src/admission/completeness.js";
import { fingerprintTree } from "../src/admission/fingerprint.js";
import { messageType } from "../src/proto/registry.js";
import { writeSavedModel } from "../src/savedmodel/writer.js";
import { writeWarmupFile } from "../src/warmup/writer.js";
import { TFSERVING_TESTDATA, fixturesSkip } from "./helpers/fixtures.js";
import { tempDir, writeCompleteVersion, writeSavedModelPb, writeVariables } from "./helpers/version-dir.js";

async function codes(dir: string): Promise<string[]> {
  return (await checkCompleteness(dir)).reasons.map((r) => r.code);
}

test("a complete version with sharded variables is complete, with a fingerprint of every file", async (t) => {
  const dir = tempDir(t);
  writeCompleteVersion(dir, 3);
  const verdict = await checkCompleteness(dir);
  assert.equal(verdict.complete, true);
  assert.deepEqual(verdict.reasons, []);
  assert.deepEqual(
    verdict.fingerprint.entries.map((e) => e.path),
    [
      "saved_model.pb",
      "variables/",
      "variables/variables.data-00000-of-00003",
      "variables/variables.data-00001-of-00003",
      "variables/variables.data-00002-of-00003",
      "variables/variables.index",
    ],
  );
  assert.equal(verdict.markerPresent, undefined);
});

test("a version with no variables/ at all is complete (the smoke gate judges it)", async (t) => {
  const dir = tempDir(t);
  writeSavedModelPb(dir);
  assert.deepEqual(await checkCompleteness(dir).then((v) => [v.complete, v.reasons]), [true, []]);
});

test("a missing data shard makes the version incomplete and is named", async (t) => {
  const dir = tempDir(t);
  writeSavedModelPb(dir);
  writeVariables(dir, 4, { omit: [2] });
  const verdict = await checkCompleteness(dir);
  assert.equal(verdict.complete, false);
  assert.equal(verdict.reasons.length, 1);
  assert.equal(verdict.reasons[0]!.code, "variables-shard-missing");
  assert.equal(verdict.reasons[0]!.message, "1 of 4 data shards missing: variables.data-00002-of-00004");
  assert.equal(verdict.reasons[0]!.path, join(dir, "variables", "variables.data-00002-of-00004"));
});

test("many missing shards are summarised, not listed in full", async (t) => {
  const dir = tempDir(t);
  writeSavedModelPb(dir);
  writeVariables(dir, 12, { omit: [0, 1, 2, 3, 4, 5, 6, 7] });
  const [reason] = (await checkCompleteness(dir)).reasons;
  assert.match(reason!.message, /^8 of 12 data shards missing: .*00004-of-00012 and 3 more$/);
});

test("variables index: missing, empty, or without the table footer magic (truncated) is incomplete", async (t) => {
  const dir = tempDir(t);
  writeCompleteVersion(dir, 1);
  const index = join(dir, "variables", "variables.index");
  const full = readFileSync(index);
  truncateSync(index, full.length - 1);
  assert.deepEqual(await codes(dir), ["variables-index-truncated"]);
  writeFileSync(index, Buffer.alloc(0));
  assert.deepEqual(await codes(dir), ["variables-index-empty"]);
  rmSync(index);
  assert.deepEqual(await codes(dir), ["variables-index-missing"]);
  writeFileSync(index, full);
  assert.deepEqual(await codes(dir), []);
});

test("variables/ with an index but no data shard, or shards disagreeing on N, is incomplete", async (t) => {
  const dir = tempDir(t);
  writeCompleteVersion(dir, 1);
  rmSync(join(dir, "variables", shardName(0, 1)));
  assert.deepEqual(await codes(dir), ["variables-data-missing"]);
  writeFileSync(join(dir, "variables", shardName(0, 1)), "x");
  writeFileSync(join(dir, "variables", shardName(1, 2)), "x");
  const [reason] = (await checkCompleteness(dir)).reasons;
  assert.equal(reason!.code, "variables-shard-count-mismatch");
  assert.match(reason!.message, /-of-1, -of-2/);
});

test("saved_model.pb missing, truncated, or without a serve meta graph is incomplete", async (t) => {
  const dir = tempDir(t);
  writeVariables(dir, 1);
  assert.deepEqual(await codes(dir), ["saved-model-missing"]);
  writeSavedModelPb(dir);
  const pb = join(dir, "saved_model.pb");
  const size = readFileSync(pb).length;
  truncateSync(pb, size - 5);
  const [reason] = (await checkCompleteness(dir)).reasons;
  assert.equal(reason!.code, "saved-model-unreadable");
  assert.match(reason!.message, /corrupt SavedModel at byte offset/);
  writeSavedModelPb(dir, ["serve", "gpu"]);
  const [tags] = (await checkCompleteness(dir)).reasons;
  assert.equal(tags!.code, "no-serving-meta-graph");
  assert.deepEqual(await checkCompleteness(dir, { tags: ["gpu", "serve"] }).then((v) => v.complete), true);
});

test("saved_model.pbtxt is accepted when saved_model.pb is absent", async (t) => {
  const dir = tempDir(t);
  writeFileSync(
    join(dir, "saved_model.pbtxt"),
    'saved_model_schema_version: 1\nmeta_graphs { meta_info_def { tags: "serve" } }\n',
  );
  assert.deepEqual(await codes(dir), []);
});

test("a truncated warmup file makes the version incomplete; an intact one does not", async (t) => {
  const dir = tempDir(t);
  writeCompleteVersion(dir, 1);
  const warmup = join(dir, "assets.extra", "tf_serving_warmup_requests");
  const request = messageType("tensorflow.serving.PredictRequest").toObject(
    messageType("tensorflow.serving.PredictRequest").fromObject({ model_spec: { name: "m" } }),
    { longs: String, enums: String },
  );
  writeWarmupFile(warmup, [request, request]);
  assert.deepEqual(await codes(dir), []);
  truncateSync(warmup, readFileSync(warmup).length - 3);
  const [reason] = (await checkCompleteness(dir)).reasons;
  assert.equal(reason!.code, "warmup-unreadable");
  assert.match(reason!.message, /truncated record/);
});

test("marker presence is reported when a marker file name is given", async (t) => {
  const dir = tempDir(t);
  writeCompleteVersion(dir, 1);
  assert.equal((await checkCompleteness(dir, { markerFile: "_SUCCESS" })).markerPresent, false);
  writeFileSync(join(dir, "_SUCCESS"), "");
  assert.equal((await checkCompleteness(dir, { markerFile: "_SUCCESS" })).markerPresent, true);
});

test("the fingerprint changes with a file's size or mtime and with a new directory, and only then", async (t) => {
  const dir = tempDir(t);
  writeCompleteVersion(dir, 1);
  const first = await fingerprintTree(dir);
  assert.equal((await fingerprintTree(dir)).digest, first.digest);
  const shard = join(dir, "variables", shardName(0, 1));
  writeFileSync(shard, Buffer.from([0, 1, 2, 3, 4]));
  const grown = await fingerprintTree(dir);
  assert.notEqual(grown.digest, first.digest);
  utimesSync(shard, new Date(1_000_000), new Date(1_000_000));
  const touched = await fingerprintTree(dir);
  assert.notEqual(touched.digest, grown.digest);
  mkdirSync(join(dir, "assets"));
  assert.notEqual((await fingerprintTree(dir)).digest, touched.digest);
});

test("TF Serving's real half_plus_two versions are complete", { skip: fixturesSkip() }, async () => {
  for (const version of [
    join(TFSERVING_TESTDATA, "saved_model_half_plus_two_cpu", "00000123"),
    join(TFSERVING_TESTDATA, "saved_model_half_plus_two_2_versions", "00000123"),
    join(TFSERVING_TESTDATA, "saved_model_half_plus_two_2_versions", "00000124"),
  ]) {
    const verdict = await checkCompleteness(version);
    assert.deepEqual(verdict.reasons, [], version);
    assert.equal(verdict.complete, true);
  }
});

test("versions written by the project's SavedModel writer (used by the emulator tests) are complete", async (t) => {
  const dir = tempDir(t);
  writeSavedModel(dir, { signatures: {}, withVariables: true });
  assert.deepEqual((await checkCompleteness(dir)).reasons, []);
});
