import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { RolloutError } from "../src/errors.js";
import { loadModelServerConfig, parseModelServerConfigBytes } from "../src/modelconfig/load.js";
import { TextFormatError } from "../src/textformat/parse.js";
import { TFSERVING_TESTDATA, fixturesSkip } from "./helpers/fixtures.js";

const CONFIG = `# two models
model_config_list {
  config {
    name: "half_plus_two"
    base_path: "/models/half_plus_two"
    model_platform: "tensorflow"
    model_version_policy { specific { versions: 123 versions: 9007199254740993 } }
    version_labels { key: "stable" value: 123 }
  }
}
`;

async function withTempDir(run: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), "load-"));
  try {
    await run(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

test("loads path, exact text and the canonical message (int64 exact as strings)", () =>
  withTempDir(async (dir) => {
    await writeFile(join(dir, "models.config"), CONFIG);
    const loaded = await loadModelServerConfig("models.config", { cwd: dir });
    assert.equal(loaded.path, join(dir, "models.config"));
    assert.equal(loaded.text, CONFIG);
    assert.deepEqual(loaded.message, {
      model_config_list: {
        config: [
          {
            name: "half_plus_two",
            base_path: "/models/half_plus_two",
            model_platform: "tensorflow",
            model_version_policy: { specific: { versions: ["123", "9007199254740993"] } },
            version_labels: { stable: "123" },
          },
        ],
      },
    });
  }));

test("a missing file is a RolloutError (exit 1) naming the path, with a hint", () =>
  withTempDir(async (dir) => {
    await assert.rejects(loadModelServerConfig("nope.config", { cwd: dir }), (error: unknown) => {
      assert.ok(error instanceof RolloutError);
      assert.equal(error.exitCode, 1);
      assert.equal(error.where, "nope.config");
      assert.equal(error.message, `no such file (${join(dir, "nope.config")})`);
      assert.match(error.hint ?? "", /--model_config_file/);
      return true;
    });
  }));

test("a directory is refused with a clear error", () =>
  withTempDir(async (dir) => {
    await assert.rejects(loadModelServerConfig(dir), /is a directory, not a models.config file/);
  }));

test("a parse error is located FILE:LINE:COL with the name the user gave", () =>
  withTempDir(async (dir) => {
    await writeFile(join(dir, "bad.config"), 'model_config_list {\n  config { nme: "x" }\n}\n');
    await assert.rejects(loadModelServerConfig("bad.config", { cwd: dir }), (error: unknown) => {
      assert.ok(error instanceof TextFormatError);
      assert.equal(error.file, "bad.config");
      assert.equal(error.line, 2);
      assert.match(error.message, /^bad\.config:2:\d+: .*nme/);
      return true;
    });
  }));

test("bytes that are not UTF-8 are refused instead of silently replaced", () => {
  assert.throws(
    () => parseModelServerConfigBytes(Buffer.from([0x23, 0xff, 0x0a]), "x.config"),
    (error: unknown) =>
      error instanceof RolloutError && error.where === "x.config" && /not valid UTF-8/.test(error.message),
  );
});

test("TF Serving's good_model_config.txt loads as two models", { skip: fixturesSkip() }, async () => {
  const loaded = await loadModelServerConfig(join(TFSERVING_TESTDATA, "good_model_config.txt"));
  assert.deepEqual(
    loaded.message.model_config_list?.config?.map((m) => [m.name, m.base_path, m.model_platform]),
    [
      ["half_plus_two", "${TEST_HALF_PLUS_TWO_DIR}", "tensorflow"],
      ["half_plus_three", "${TEST_HALF_PLUS_THREE_DIR}", "tensorflow"],
    ],
  );
});

test("TF Serving's bad_model_config.txt is a located parse error", { skip: fixturesSkip() }, async () => {
  const path = join(TFSERVING_TESTDATA, "bad_model_config.txt");
  await assert.rejects(loadModelServerConfig(path), (error: unknown) => {
    assert.ok(error instanceof TextFormatError);
    assert.equal(error.line, 1);
    assert.match(error.message, /has no field named "improperly"/);
    return true;
  });
});
