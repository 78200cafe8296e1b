import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import fc from "fast-check";
import { UsageError } from "../src/errors.js";
import { messageType } from "../src/proto/registry.js";
import { parseTextFormat, parseTextFormatTree, TextFormatError } from "../src/textformat/parse.js";
import { printTextFormat } from "../src/textformat/print.js";
import { fixturesSkip, TFSERVING_TESTDATA } from "./helpers/fixtures.js";
import { modelServerConfigArb, seededRandom, writeVariant } from "./helpers/textformat-variants.js";

const SERVER = messageType("tensorflow.serving.ModelServerConfig");
const MODEL = messageType("tensorflow.serving.ModelConfig");
const SAMPLING = messageType("tensorflow.serving.SamplingConfig");
const POLICY = messageType("tensorflow.serving.FileSystemStoragePathSourceConfig.ServableVersionPolicy");

const model = (text: string) => parseTextFormat(text, MODEL, "m.txt");

function rejects(text: string, message: string, type = MODEL): void {
  assert.throws(
    () => parseTextFormat(text, type, "f.txt"),
    (error: unknown) => {
      assert.ok(error instanceof TextFormatError, `not a TextFormatError: ${String(error)}`);
      assert.equal(error.message, message);
      return true;
    },
    `${JSON.stringify(text)} should be rejected`,
  );
}

test("parses the facts-sheet example into the canonical object", () => {
  const text = `# comment
model_config_list {
  config {
    name: "half_plus_two"
    base_path: "/models/half_plus_two"        # absolute
    model_platform: "tensorflow"
    model_version_policy {
      specific {
        versions: 123
        versions: 124
      }
    }
    version_labels {
      key: "stable"
      value: 123
    }
    version_labels {
      key: "canary"
      value: 124
    }
  }
  config {
    name: "half_plus_three"
    base_path: "/models/half_plus_three"
    model_platform: "tensorflow"
    model_version_policy {
      latest {
        num_versions: 1
      }
    }
  }
}
`;
  assert.deepEqual(parseTextFormat(text, SERVER, "models.config"), {
    model_config_list: {
      config: [
        {
          name: "half_plus_two",
          base_path: "/models/half_plus_two",
          model_platform: "tensorflow",
          model_version_policy: { specific: { versions: ["123", "124"] } },
          version_labels: { stable: "123", canary: "124" },
        },
        {
          name: "half_plus_three",
          base_path: "/models/half_plus_three",
          model_platform: "tensorflow",
          model_version_policy: { latest: { num_versions: 1 } },
        },
      ],
    },
  });
});

test("agrees with protobufjs's own canonical form (encode, decode, toObject)", () => {
  const text = `name: "m" model_type: OTHER model_version_policy { specific { versions: [-9223372036854775808, 0, 9223372036854775807] } }
    version_labels { key: "a" value: 0 } logging_config { sampling_config { sampling_rate: 0.25 attributes: -3
    per_task_sampling_configs { task_index: 0 } } }`;
  const parsed = model(text);
  const viaProtobufjs = MODEL.toObject(MODEL.decode(MODEL.encode(MODEL.fromObject(parsed)).finish()), {
    longs: String,
    enums: String,
  });
  assert.deepEqual(parsed, viaProtobufjs);
});

test("accepts every syntax form C++ TextFormat accepts", () => {
  const cases: [string, Record<string, unknown>][] = [
    ['model_version_policy {} name: "x"', { model_version_policy: {}, name: "x" }],
    ["model_version_policy: { all: {} }", { model_version_policy: { all: {} } }],
    ["model_version_policy < all < > >", { model_version_policy: { all: {} } }],
    [
      'name: "a", base_path: "/b"; model_platform: "tensorflow",',
      { name: "a", base_path: "/b", model_platform: "tensorflow" },
    ],
    ["name: 'single' # trailing comment", { name: "single" }],
    [`name: "a" 'b' "c"`, { name: "abc" }],
    [String.raw`name: "\101\x42\u00e9\U0001F600\n\t\\\'\""`, { name: "ABé😀\n\t\\'\"" }],
    [
      "model_version_policy { specific { versions: [1, 2] versions: 3 } }",
      { model_version_policy: { specific: { versions: ["1", "2", "3"] } } },
    ],
    ["model_version_policy { specific { versions: [] } }", { model_version_policy: { specific: {} } }],
    [
      "model_version_policy { specific { versions: [0x1F, 017, -5, 9007199254740993] } }",
      { model_version_policy: { specific: { versions: ["31", "15", "-5", "9007199254740993"] } } },
    ],
    ["model_type: TENSORFLOW", { model_type: "TENSORFLOW" }],
    ["model_type: 2", { model_type: "OTHER" }],
    ["model_type: 7", { model_type: 7 }],
    ["model_type: MODEL_TYPE_UNSPECIFIED", {}],
    ['name: ""', {}],
    ["", {}],
    ["# only a comment\n\n", {}],
    // proto3: a scalar at its default is "not set", so C++ accepts setting it again.
    ['name: "" name: "x"', { name: "x" }],
    [
      'version_labels { key: "a" value: 1 } version_labels: < key: "b", value: 0x2 >',
      { version_labels: { a: "1", b: "2" } },
    ],
    [
      'version_labels { key: "a" value: 1 } version_labels { key: "a" value: 2 }',
      { version_labels: { a: "2" } },
    ],
    ["version_labels {}", { version_labels: { "": "0" } }],
    [
      'version_labels: [{ key: "a" value: 1 }, { key: "b" value: 2 }]',
      { version_labels: { a: "1", b: "2" } },
    ],
    ['version_labels { key: "__proto__" value: 1 }', { version_labels: JSON.parse('{"__proto__":"1"}') }],
  ];
  for (const [text, expected] of cases) assert.deepEqual(model(text), expected, text);
  assert.deepEqual(
    parseTextFormat(
      'config [{ name: "a" }, { name: "b" }]',
      messageType("tensorflow.serving.ModelConfigList"),
      "l",
    ),
    {
      config: [{ name: "a" }, { name: "b" }],
    },
  );
});

test("floats, doubles and integer bounds", () => {
  const rate = (v: string) => parseTextFormat(`sampling_rate: ${v}`, SAMPLING, "s").sampling_rate;
  assert.equal(rate("1"), 1);
  assert.equal(rate("1.5"), 1.5);
  assert.equal(rate(".5"), 0.5);
  assert.equal(rate("1e3"), 1000);
  assert.equal(rate("1.5f"), 1.5);
  assert.equal(rate("-2.5E-1"), -0.25);
  assert.equal(rate("inf"), Infinity);
  assert.equal(rate("-inf"), -Infinity);
  assert.equal(rate("Infinity"), Infinity);
  assert.ok(Number.isNaN(rate("nan")));
  assert.ok(Object.is(rate("-0"), -0), "-0 is kept (protobuf keeps it too)");
  assert.equal(rate("0"), undefined, "0 is the proto3 default: absent");
  assert.equal(rate("18446744073709551616"), 18446744073709551616, "beyond uint64 still parses as a double");
  const attributes = (v: string) => parseTextFormat(`attributes: ${v}`, SAMPLING, "s").attributes;
  assert.equal(attributes("2147483647"), 2147483647);
  assert.equal(attributes("-2147483648"), -2147483648);
  assert.equal(attributes("0x7fffffff"), 2147483647);
  const num = (v: string) => parseTextFormat(`latest { num_versions: ${v} }`, POLICY, "p");
  assert.deepEqual(num("4294967295"), { latest: { num_versions: 4294967295 } });
  assert.deepEqual(num("0"), { latest: {} });
  const optional = parseTextFormat("per_task_sampling_configs { task_index: 0 }", SAMPLING, "s");
  assert.deepEqual(optional, { per_task_sampling_configs: [{ task_index: 0 }] }, "proto3 optional keeps 0");
});

test("bools accept true/false/t/f/True/False/1/0 and reject anything else", () => {
  const SOURCE = messageType("tensorflow.serving.FileSystemStoragePathSourceConfig");
  const flag = (v: string) => parseTextFormat(`servable_versions_always_present: ${v}`, SOURCE, "b");
  for (const v of ["true", "True", "t", "1"])
    assert.deepEqual(flag(v), { servable_versions_always_present: true }, v);
  for (const v of ["false", "False", "f", "0"]) assert.deepEqual(flag(v), {}, v);
  rejects(
    "servable_versions_always_present: yes",
    'f.txt:1:38: Invalid value for boolean field "servable_versions_always_present". Value: "yes".',
    SOURCE,
  );
  rejects("servable_versions_always_present: 2", "f.txt:1:35: Integer out of range (2)", SOURCE);
  rejects('servable_versions_always_present: "true"', 'f.txt:1:35: Expected identifier, got: "true"', SOURCE);
});

test("rejects what TF Serving rejects, with FILE:LINE:COL and protobuf's wording", () => {
  rejects("foo: 1", 'f.txt:1:4: Message type "tensorflow.serving.ModelConfig" has no field named "foo".');
  rejects('name: "a"\n  name: "b"', 'f.txt:2:7: Non-repeated field "name" is specified multiple times.');
  rejects(
    "model_version_policy { all {} } model_version_policy {}",
    'f.txt:1:54: Non-repeated field "model_version_policy" is specified multiple times.',
  );
  rejects(
    "model_version_policy { latest {} all {} }",
    'f.txt:1:38: Field "all" is specified along with field "latest", another member of oneof "policy_choice".',
  );
  rejects("model_version_policy { latest { num_versions: -1 } }", "f.txt:1:47: Expected integer, got: -");
  rejects(
    "model_version_policy { latest { num_versions: 4294967296 } }",
    "f.txt:1:47: Integer out of range (4294967296)",
  );
  rejects(
    "model_version_policy { specific { versions: 9223372036854775808 } }",
    "f.txt:1:45: Integer out of range (9223372036854775808)",
  );
  rejects(
    "model_version_policy { specific { versions: -9223372036854775809 } }",
    "f.txt:1:46: Integer out of range (9223372036854775809)",
  );
  rejects("model_version_policy { specific { versions: abc } }", "f.txt:1:45: Expected integer, got: abc");
  rejects("model_version_policy { specific { versions: 1.5 } }", "f.txt:1:45: Expected integer, got: 1.5");
  rejects('model_version_policy { specific { versions: "1" } }', 'f.txt:1:45: Expected integer, got: "1"');
  rejects("name: x", "f.txt:1:7: Expected string, got: x");
  rejects('name "x"', 'f.txt:1:6: Expected ":", found ""x"".');
  rejects("model_type: FOO", 'f.txt:1:16: Unknown enumeration value of "FOO" for field "model_type".');
  rejects('model_type: "TENSORFLOW"', 'f.txt:1:13: Expected integer or identifier, got: "TENSORFLOW"');
  rejects("model_version_policy { all {}", 'f.txt:1:30: Expected "}", found "".');
  rejects("model_version_policy { all {} >", 'f.txt:1:31: Expected "}", found ">".');
  rejects("model_version_policy < all {} }", 'f.txt:1:31: Expected ">", found "}".');
  rejects("}", "f.txt:1:1: Expected identifier, got: }");
  rejects('name: "abc', "f.txt:1:11: Unexpected end of string.");
  rejects('version_labels [ { key: "a" } { key: "b" } ]', 'f.txt:1:31: Expected ",", found "{".');
  rejects("sampling_rate: abc", "f.txt:1:16: Expected double, got: abc", SAMPLING);
  rejects("sampling_rate: 0x10", "f.txt:1:16: Expect a decimal number, got: 0x10", SAMPLING);
  rejects("attributes: 2147483648", "f.txt:1:13: Integer out of range (2147483648)", SAMPLING);
  rejects("attributes: -2147483649", "f.txt:1:14: Integer out of range (2147483649)", SAMPLING);
  rejects(
    "[ext.foo]: 1",
    'f.txt:1:10: Extension "ext.foo" is not defined or is not an extension of "tensorflow.serving.ModelConfig".',
  );
  rejects(
    "custom_model_config { [type.googleapis.com/no.Such] {} }",
    'f.txt:1:53: Could not find type "type.googleapis.com/no.Such" stored in google.protobuf.Any.',
    SERVER,
  );
  rejects(
    "model_config_list {} custom_model_config {}",
    'f.txt:1:42: Field "custom_model_config" is specified along with field "model_config_list", another member of oneof "config".',
    SERVER,
  );
});

test("TextFormatError is a UsageError (exit 2) with file, line, column and a hint", () => {
  try {
    parseTextFormat("\n\n  bogus: 1", MODEL, "/etc/models.config");
    assert.fail("should throw");
  } catch (error) {
    assert.ok(error instanceof TextFormatError);
    assert.ok(error instanceof UsageError);
    assert.equal(error.exitCode, 2);
    assert.deepEqual([error.file, error.line, error.column], ["/etc/models.config", 3, 8]);
    assert.equal(error.where, "/etc/models.config:3:8");
    assert.match(
      error.describe(),
      /^\/etc\/models.config:3:8: Message type .* has no field named "bogus"\.\n {2}hint: /,
    );
  }
});

test("google.protobuf.Any in expanded form is stored serialized", () => {
  const parsed = parseTextFormat(
    'custom_model_config { [type.googleapis.com/tensorflow.serving.ModelConfig] { name: "x" } }',
    SERVER,
    "a",
  );
  assert.deepEqual(parsed, {
    custom_model_config: {
      type_url: "type.googleapis.com/tensorflow.serving.ModelConfig",
      value: Buffer.from(MODEL.encode(MODEL.fromObject({ name: "x" })).finish()),
    },
  });
  rejects(
    'custom_model_config { [type.googleapis.com/tensorflow.serving.ModelConfig] {} type_url: "x" }',
    'f.txt:1:87: Non-repeated field "type_url" is specified multiple times.',
    SERVER,
  );
});

test("rejects nesting deeper than protobuf's recursion limit of 100", () => {
  const deep = "custom_model_config { [type.googleapis.com/tensorflow.serving.ModelServerConfig] { ".repeat(
    60,
  );
  assert.throws(() => parseTextFormat(deep, SERVER, "d"), /Message is too deep/);
});

test("the syntax tree carries byte offsets of fields, values and blocks", () => {
  const text = 'config {\n  name: "a",\n  version_labels: { key: "s" value: 7 }\n}\n';
  const { tree } = parseTextFormatTree(text, messageType("tensorflow.serving.ModelConfigList"), "t");
  const config = tree.fields[0];
  assert.ok(config);
  const block = config.values[0];
  assert.ok(block?.kind === "message");
  assert.equal(text.slice(block.start, block.end), text.slice(7, text.length - 1));
  const [name, labels] = block.fields;
  assert.ok(name && labels);
  assert.equal(text.slice(name.start, name.end), 'name: "a"');
  assert.equal(text.slice(name.start, name.separatorEnd), 'name: "a",');
  assert.equal(text.slice(labels.start, labels.end), 'version_labels: { key: "s" value: 7 }');
  assert.equal(labels.colon, true);
  const entry = labels.values[0];
  assert.ok(entry?.kind === "message");
  const value = entry.fields[1]?.values[0];
  assert.ok(value?.kind === "scalar");
  assert.equal(text.slice(value.start, value.end), "7");
  assert.deepEqual(entry.value, { key: "s", value: "7" });
});

test("conformance: TF Serving's good_model_config.txt parses", { skip: fixturesSkip() }, () => {
  const file = join(TFSERVING_TESTDATA, "good_model_config.txt");
  assert.deepEqual(parseTextFormat(readFileSync(file, "utf8"), SERVER, file), {
    model_config_list: {
      config: [
        { name: "half_plus_two", base_path: "${TEST_HALF_PLUS_TWO_DIR}", model_platform: "tensorflow" },
        { name: "half_plus_three", base_path: "${TEST_HALF_PLUS_THREE_DIR}", model_platform: "tensorflow" },
      ],
    },
  });
});

test(
  "conformance: TF Serving's bad_model_config.txt is rejected with a located error",
  { skip: fixturesSkip() },
  () => {
    const file = join(TFSERVING_TESTDATA, "bad_model_config.txt");
    assert.throws(
      () => parseTextFormat(readFileSync(file, "utf8"), SERVER, file),
      (error: unknown) =>
        error instanceof TextFormatError &&
        error.message ===
          `${file}:1:12: Message type "tensorflow.serving.ModelServerConfig" has no field named "improperly".`,
    );
  },
);

test("property: random formatting variants of one config parse to the same message", () => {
  fc.assert(
    fc.property(modelServerConfigArb, fc.integer(), (config, seed) => {
      const variant = writeVariant(config, SERVER, seededRandom(seed));
      assert.deepEqual(parseTextFormat(variant, SERVER, "variant"), config, variant);
    }),
    { numRuns: 300 },
  );
});

test("property: a canonical print of a parsed variant parses back unchanged", () => {
  fc.assert(
    fc.property(modelServerConfigArb, fc.integer(), (config, seed) => {
      const parsed = parseTextFormat(writeVariant(config, SERVER, seededRandom(seed)), SERVER, "v");
      assert.deepEqual(parseTextFormat(printTextFormat(parsed, SERVER), SERVER, "p"), config);
    }),
    { numRuns: 100 },
  );
});
