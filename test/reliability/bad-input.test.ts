// Bad input: property-based fuzzing (fast-check) of the models.config parser and editor and of the daemon config
// loader, hostile version directories, corrupt model files. Every input must end in a correct result or a located
// error (RolloutError with `where`, or a TextFormatError with line and column), never anything else; edits never
// change a byte outside their model. Every input tried is tallied.
import assert from "node:assert/strict";
import { chmodSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import fc from "fast-check";
import { listVersionDirs } from "../../src/admission/version-dirs.js";
import { DaemonConfigError, loadDaemonConfig, type ConfigFileReader } from "../../src/daemon-config/index.js";
import { RolloutError } from "../../src/errors.js";
import { editModelConfig } from "../../src/modelconfig/edit.js";
import { parseModelServerConfigBytes } from "../../src/modelconfig/load.js";
import { readSavedModel } from "../../src/savedmodel/reader.js";
import { TextFormatError } from "../../src/textformat/parse.js";
import { readWarmupFile } from "../../src/warmup/reader.js";
import { encodeTfRecord } from "../../src/warmup/tfrecord.js";
import { writeVersion } from "../helpers/emulator-harness.js";
import { tempRoot } from "../helpers/rollout-world.js";
import { tally } from "./tally.js";

const RUNS = 300;

/** Passes for a result; for a throw, only a located RolloutError (TextFormatError is one, with line:column). */
function resultOrLocatedError(what: string, run: () => unknown): void {
  try {
    run();
  } catch (error) {
    assert.ok(
      error instanceof RolloutError,
      `${what}: unexpected ${String((error as Error)?.stack ?? error)}`,
    );
    if (error instanceof TextFormatError)
      assert.ok(error.line >= 1 && error.column >= 1, `${what}: ${error.message}`);
    else assert.ok(error.where, `${what}: error without a location: ${error.message}`);
  }
}

const VALID = [
  "# models: keep this comment",
  "model_config_list {",
  '  config { name: "a" base_path: "/models/a" model_platform: "tensorflow" }',
  "  config {",
  '    name: "b"  # second',
  '    base_path: "/models/b"',
  '    model_platform: "tensorflow"',
  "    model_version_policy { specific { versions: 1 versions: 2 } }",
  '    version_labels { key: "stable" value: 2 }',
  "  }",
  "}",
  "",
].join("\n");

const TOKENS = [
  "{",
  "}",
  ":",
  '"',
  "#",
  "\n",
  " ",
  "config",
  "name",
  "versions",
  "-1",
  "9".repeat(25),
  "\\",
  "\u00ff",
  "<",
  ">",
  ";",
  ",",
];

test("models.config parser: random bytes and mutated valid files give a result or a located error", () => {
  let tried = 0;
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
      tried++;
      resultOrLocatedError("random bytes", () => parseModelServerConfigBytes(bytes, "models.config"));
    }),
    { numRuns: RUNS },
  );
  fc.assert(
    fc.property(
      fc.array(fc.tuple(fc.nat({ max: VALID.length }), fc.nat({ max: 8 }), fc.constantFrom(...TOKENS)), {
        minLength: 1,
        maxLength: 4,
      }),
      (mutations) => {
        tried++;
        let text = VALID;
        for (const [at, cut, token] of mutations) text = text.slice(0, at) + token + text.slice(at + cut);
        resultOrLocatedError("mutated file", () =>
          parseModelServerConfigBytes(Buffer.from(text), "models.config"),
        );
      },
    ),
    { numRuns: RUNS },
  );
  tally("bad_inputs", "models.config parser fuzz", tried);
});

const modelName = fc.stringMatching(/^[a-z][a-z0-9_]{0,6}$/);
const comment = fc.constantFrom("", "  # note", " # é ü {", "");
const space = fc.constantFrom(" ", "  ", "\n  ", "\t");

test("models.config editor: an edit changes only its model's block, and the result parses with the change", () => {
  let tried = 0;
  fc.assert(
    fc.property(
      fc.uniqueArray(modelName, { minLength: 1, maxLength: 4 }),
      fc.array(fc.tuple(comment, space), { minLength: 4, maxLength: 4 }),
      fc.nat(),
      fc.uniqueArray(fc.bigInt({ min: 1n, max: 2n ** 63n - 1n }), { minLength: 1, maxLength: 3 }),
      fc.boolean(),
      (names, styles, pick, versions, withLabel) => {
        tried++;
        const blocks = names.map((name, i) => {
          const [c, s] = styles[i % styles.length]!;
          return `  config {${s}name: "${name}"${c}\n    base_path: "/models/${name}"${s}model_platform: "tensorflow"\n  }\n`;
        });
        const head = "# keep me\nmodel_config_list {\n";
        const tail = "}\n# trailing comment\n";
        const target = pick % names.length;
        const prefix = head + blocks.slice(0, target).join("");
        const suffix = blocks.slice(target + 1).join("") + tail;
        const text = prefix + blocks[target]! + suffix;
        const labels: Record<string, string> = withLabel ? { stable: versions[0]!.toString() } : {};
        const edited = editModelConfig(text, "models.config", names[target]!, {
          policy: { specific: { versions: versions.map(String) } },
          labels,
        });
        assert.ok(edited.startsWith(prefix), "bytes before the model kept");
        assert.ok(edited.endsWith(suffix), "bytes after the model kept");
        const { message } = parseModelServerConfigBytes(Buffer.from(edited), "models.config");
        const model = message.model_config_list!.config![target]!;
        assert.deepEqual(model.model_version_policy, { specific: { versions: versions.map(String) } });
        assert.deepEqual(model.version_labels ?? {}, labels);
      },
    ),
    { numRuns: RUNS },
  );
  tally("bad_inputs", "models.config editor fuzz", tried);
});

const yamlScalar = fc.oneof(
  fc.string({ maxLength: 8 }),
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.constantFrom(
    "10s",
    "-1s",
    "0",
    "1e400",
    "127.0.0.1:0",
    "0.0.0.0:9464",
    "*/2 * * * * *",
    "~",
    "[",
    "{a: 1",
  ),
);
const KEYS = [
  "admission",
  "quiet_window",
  "watch",
  "rescan_cron",
  "rollout",
  "load_deadline",
  "tf_serving",
  "call_deadline",
  "retry",
  "attempts",
  "http",
  "listen",
  "models",
  "gate",
  "state_dir",
  "x",
];
const yamlTree = fc.letrec((tie) => ({
  node: fc.oneof(
    { depthSize: "small" },
    yamlScalar,
    fc.array(tie("node"), { maxLength: 3 }),
    fc.dictionary(fc.constantFrom(...KEYS), tie("node"), { maxKeys: 4 }),
  ),
})).node;

function toYaml(value: unknown, indent = ""): string {
  if (Array.isArray(value))
    return value.length === 0 ? "[]" : value.map((v) => `\n${indent}- ${toYaml(v, `${indent}  `)}`).join("");
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value);
    return entries.length === 0
      ? "{}"
      : entries.map(([k, v]) => `\n${indent}${k}: ${toYaml(v, `${indent}  `)}`).join("");
  }
  return JSON.stringify(value) ?? "null";
}

test("daemon config loader: random YAML trees and raw text give a config or a located error", async () => {
  let tried = 0;
  const load = async (text: string) => {
    tried++;
    const reader: ConfigFileReader = { cwd: "/work", read: async () => text };
    try {
      await loadDaemonConfig(
        { config: "/work/daemon.yaml", modelConfigFile: "/work/models.config" },
        {},
        reader,
      );
    } catch (error) {
      assert.ok(
        error instanceof RolloutError,
        `unexpected ${String((error as Error)?.stack ?? error)}\n${text}`,
      );
      const problems = error instanceof DaemonConfigError ? error.problems : [error];
      for (const problem of problems) assert.ok(problem.where, `no location: ${problem.message}\n${text}`);
    }
  };
  await fc.assert(
    fc.asyncProperty(yamlTree, (tree) => load(toYaml(tree).trimStart())),
    { numRuns: RUNS },
  );
  await fc.assert(fc.asyncProperty(fc.string({ maxLength: 120 }), load), { numRuns: RUNS });
  tally("bad_inputs", "daemon config loader fuzz", tried);
});

test("hostile version directories: +7, ' 7', 007 beside 7, beyond int64, negative, files, symlinks out, junk", async (t) => {
  const temp = tempRoot();
  t.after(() => {
    chmodSync(join(temp.dir, "base", "12"), 0o755);
    temp.cleanup();
  });
  const base = join(temp.dir, "base");
  const outside = join(temp.dir, "outside");
  mkdirSync(outside, { recursive: true });
  writeVersion(outside, "1");
  for (const name of ["+7", " 7", "007", "7", "99999999999999999999", "-3", "5"]) writeVersion(base, name);
  writeFileSync(join(base, "8"), "a file named like a version");
  symlinkSync(join(outside, "1"), join(base, "10"));
  writeVersion(base, "11", { variables: false });
  symlinkSync(join(outside, "1", "variables"), join(base, "11", "variables"));
  writeVersion(base, "12");
  chmodSync(join(base, "12"), 0o000);
  mkdirSync(Buffer.from([...Buffer.from(join(base, "")), 0x31, 0xff, 0xfe]));
  for (let i = 0; i < 10_000; i++) writeFileSync(join(base, `junk-${i}`), "");
  const listing = await listVersionDirs(base);
  const listed = listing.versions.map((v) => v.version);
  for (const v of listed) assert.match(v, /^-?\d+$/, `version ${v} is a plain decimal`);
  assert.ok(listed.includes("5"));
  assert.ok(!listed.includes("7"), "7 has duplicates (+7, ' 7', 007): never picked silently");
  assert.ok(listing.duplicates.some((d) => d.version === "7"));
  assert.ok(!listed.includes("99999999999999999999"), "beyond int64 is not a version");
  assert.ok(listed.includes("-3"), "a negative name is a version, as absl::SimpleAtoi reads it (facts §4)");
  assert.ok(!listed.includes("8"), "a file is not a version");
  assert.ok(listing.refused.some((r) => r.version === "8"));
  assert.ok(!listed.includes("10"), "a symlink escaping base_path is not a version");
  assert.ok(listing.refused.some((r) => r.version === "10" && r.reason === "escapes-base-path"));
  tally("bad_inputs", "hostile version directory names and symlinks", 10_012);
});

test("corrupt model files: truncated or garbage saved_model.pb, warmup with a bad CRC or a huge length", (t) => {
  const temp = tempRoot();
  t.after(() => temp.cleanup());
  let tried = 0;
  const good = writeVersion(temp.dir, "good");
  const pb = readFileSync(join(good, "saved_model.pb"));
  fc.assert(
    fc.property(fc.nat({ max: pb.length - 1 }), fc.uint8Array({ maxLength: 64 }), (cut, garbage) => {
      tried++;
      const dir = writeVersion(temp.dir, `v${tried}`);
      writeFileSync(join(dir, "saved_model.pb"), Buffer.concat([pb.subarray(0, cut), garbage]));
      resultOrLocatedError("corrupt saved_model.pb", () => readSavedModel(dir));
    }),
    { numRuns: 100 },
  );
  const record = encodeTfRecord(Buffer.from("not a PredictionLog"));
  const badCrc = Buffer.from(record);
  badCrc[record.length - 1]! ^= 0xff;
  const hugeLength = Buffer.from(record);
  hugeLength.writeBigUInt64LE(2n ** 62n, 0);
  for (const [name, bytes] of [
    ["bad-crc", badCrc],
    ["huge-length", hugeLength],
    ["garbage", record],
  ] as const) {
    tried++;
    const path = join(temp.dir, name);
    writeFileSync(path, bytes);
    resultOrLocatedError(`warmup ${name}`, () => readWarmupFile(path));
  }
  tally("bad_inputs", "corrupt model files", tried);
});

// Regression (found by the fuzz above): `*a` without its anchor made the yaml library throw a bare ReferenceError
// out of loadDaemonConfig; src/daemon-config/yaml-source.ts now reports it located.
test("daemon config loader: an alias without its anchor is a located YAML error", async () => {
  const reader: ConfigFileReader = { cwd: "/work", read: async () => "admission:\n  quiet_window: *nope\n" };
  const error = await loadDaemonConfig({ config: "/work/daemon.yaml" }, {}, reader).then(
    () => assert.fail("should have thrown"),
    (e: unknown) => e,
  );
  assert.ok(error instanceof DaemonConfigError);
  assert.equal(error.problems[0]?.where, "/work/daemon.yaml:2:17");
  assert.match(error.problems[0]!.message, /Unresolved alias/);
  tally("bad_inputs", "YAML alias without anchor");
});
