import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import fc from "fast-check";
import { UsageError } from "../src/errors.js";
import { editModelConfig, type ModelConfigChange } from "../src/modelconfig/edit.js";
import { messageType } from "../src/proto/registry.js";
import { parseTextFormat, parseTextFormatTree } from "../src/textformat/parse.js";
import { printTextFormat } from "../src/textformat/print.js";
import { fixturesSkip, TFSERVING_TESTDATA } from "./helpers/fixtures.js";
import {
  labelsArb,
  modelServerConfigArb,
  seededRandom,
  versionPolicyArb,
  writeVariant,
} from "./helpers/textformat-variants.js";

const SERVER = messageType("tensorflow.serving.ModelServerConfig");

const EXAMPLE = `# Rollout-managed models
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
      key: "canary"  # being tested
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

/** Lines of `after` that differ from `before`, as "-old" / "+new" (a minimal line diff via common prefix/suffix). */
function changedLines(before: string, after: string): string[] {
  const a = before.split("\n");
  const b = after.split("\n");
  let start = 0;
  while (start < a.length && start < b.length && a[start] === b[start]) start++;
  let endA = a.length;
  let endB = b.length;
  while (endA > start && endB > start && a[endA - 1] === b[endB - 1]) {
    endA--;
    endB--;
  }
  return [...a.slice(start, endA).map((l) => `-${l}`), ...b.slice(start, endB).map((l) => `+${l}`)];
}

test("moving a label changes only that value's text", () => {
  const edited = editModelConfig(EXAMPLE, "m.config", "half_plus_two", {
    policy: { specific: { versions: ["123", "124"] } },
    labels: { stable: "124", canary: "124" },
  });
  assert.deepEqual(changedLines(EXAMPLE, edited), ["-      value: 123", "+      value: 124"]);
});

test("an unchanged policy and labels leave the file byte-identical, whatever its formatting", () => {
  const odd = `model_config_list<config:{name:'a' 'b',model_version_policy:<specific{versions:[1,0x2]}>;version_labels<key:"s" value:01>}>`;
  const same = { policy: { specific: { versions: [1, "2"] } }, labels: { s: 1 } } satisfies ModelConfigChange;
  assert.equal(editModelConfig(odd, "odd", "ab", same), odd);
  assert.equal(editModelConfig(EXAMPLE, "m", "half_plus_two", {}), EXAMPLE);
});

test("replacing the policy replaces only its block; removed labels go with their line; new ones follow the last", () => {
  const edited = editModelConfig(EXAMPLE, "m.config", "half_plus_two", {
    policy: { specific: { versions: ["124", "125"] } },
    labels: { stable: "124", next: "125" },
  });
  assert.equal(
    edited,
    EXAMPLE.replace("versions: 123\n        versions: 124", "versions: 124\n        versions: 125")
      .replace('key: "stable"\n      value: 123', 'key: "stable"\n      value: 124')
      .replace(
        '    version_labels {\n      key: "canary"  # being tested\n      value: 124\n    }\n',
        '    version_labels {\n      key: "next"\n      value: 125\n    }\n',
      ),
  );
  assert.deepEqual(changedLines(EXAMPLE, edited), [
    "-        versions: 123",
    "-        versions: 124",
    "-      }",
    "-    }",
    "-    version_labels {",
    '-      key: "stable"',
    "-      value: 123",
    "-    }",
    "-    version_labels {",
    '-      key: "canary"  # being tested',
    "-      value: 124",
    "+        versions: 124",
    "+        versions: 125",
    "+      }",
    "+    }",
    "+    version_labels {",
    '+      key: "stable"',
    "+      value: 124",
    "+    }",
    "+    version_labels {",
    '+      key: "next"',
    "+      value: 125",
  ]);
});

test("switching policy kind and adding labels to a model without any", () => {
  const edited = editModelConfig(EXAMPLE, "m", "half_plus_three", {
    policy: { specific: { versions: [7] } },
    labels: { stable: 7 },
  });
  assert.ok(edited.startsWith(EXAMPLE.slice(0, EXAMPLE.indexOf('    name: "half_plus_three"'))));
  assert.ok(
    edited.endsWith(`    model_platform: "tensorflow"
    model_version_policy {
      specific {
        versions: 7
      }
    }
    version_labels {
      key: "stable"
      value: 7
    }
  }
}
`),
  );
});

test("removing the policy and every label removes their lines and nothing else", () => {
  const edited = editModelConfig(EXAMPLE, "m", "half_plus_two", { policy: null, labels: {} });
  assert.equal(
    edited,
    EXAMPLE.slice(0, EXAMPLE.indexOf("    model_version_policy {")) +
      EXAMPLE.slice(EXAMPLE.indexOf("  }\n  config {")),
  );
});

test("TF Serving's own style: `config: { ... },` with commas keeps its colons and commas", () => {
  const text = `model_config_list: {
  config: {
    name: "half_plus_two",
    base_path: "/models/half_plus_two",
    model_platform: "tensorflow"
  },
  config: {
    name: "half_plus_three",
    base_path: "/models/half_plus_three",
    model_platform: "tensorflow",
  }
}
`;
  const edited = editModelConfig(text, "m", "half_plus_three", {
    policy: { specific: { versions: ["1", "2"] } },
    labels: { stable: "1", canary: "2" },
  });
  assert.equal(
    edited,
    text.replace(
      '    model_platform: "tensorflow",\n',
      `    model_platform: "tensorflow",
    model_version_policy: {
      specific: {
        versions: 1
        versions: 2
      }
    },
    version_labels: {
      key: "stable"
      value: 1
    },
    version_labels: {
      key: "canary"
      value: 2
    },
`,
    ),
  );
});

test("one-line model blocks stay on one line", () => {
  const text =
    'model_config_list { config { name: "x" base_path: "/m" } config { name: "y" base_path: "/n" } }\n';
  const edited = editModelConfig(text, "m", "x", {
    policy: { latest: { num_versions: 2 } },
    labels: { s: "3" },
  });
  assert.equal(
    edited,
    'model_config_list { config { name: "x" base_path: "/m" model_version_policy { latest { num_versions: 2 } } version_labels { key: "s" value: 3 } } config { name: "y" base_path: "/n" } }\n',
  );
});

test("indentation follows the file (tabs, 4 spaces) and CRLF line ends are kept", () => {
  const text = 'model_config_list {\r\n\tconfig {\r\n\t\tname: "x"\r\n\t\tbase_path: "/m"\r\n\t}\r\n}\r\n';
  const edited = editModelConfig(text, "m", "x", { policy: { all: {} }, labels: { a: 1 } });
  assert.equal(
    edited,
    'model_config_list {\r\n\tconfig {\r\n\t\tname: "x"\r\n\t\tbase_path: "/m"\r\n' +
      "\t\tmodel_version_policy {\r\n\t\t\tall {}\r\n\t\t}\r\n" +
      '\t\tversion_labels {\r\n\t\t\tkey: "a"\r\n\t\t\tvalue: 1\r\n\t\t}\r\n' +
      "\t}\r\n}\r\n",
  );
});

test("a new policy goes before existing labels; label entries written as a list are rewritten", () => {
  const text = `model_config_list {
  config {
    name: "x"
    version_labels: [{ key: "a" value: 1 }, { key: "b" value: 2 }]
  }
}
`;
  const edited = editModelConfig(text, "m", "x", { policy: { all: {} }, labels: { a: "1", b: "3" } });
  assert.deepEqual(parseTextFormat(edited, SERVER, "e"), {
    model_config_list: {
      config: [{ name: "x", model_version_policy: { all: {} }, version_labels: { a: "1", b: "3" } }],
    },
  });
  // The `:` style of the existing label field is kept for the new blocks.
  assert.ok(edited.includes('    name: "x"\n    model_version_policy: {\n      all: {}\n    }\n'));
  assert.ok(!edited.includes("["));
});

test("an unknown model, a duplicated model and bad input are clear UsageErrors", () => {
  assert.throws(
    () => editModelConfig(EXAMPLE, "/etc/models.config", "nope", { labels: {} }),
    (error: unknown) =>
      error instanceof UsageError &&
      error.message === 'Model "nope" is not in the model config list' &&
      error.where === "/etc/models.config" &&
      error.hint === 'models in the file: "half_plus_two", "half_plus_three"',
  );
  const twice = 'model_config_list { config { name: "a" } config { name: "a" } }';
  assert.throws(() => editModelConfig(twice, "f", "a", {}), /Model "a" is listed 2 times/);
  assert.throws(
    () => editModelConfig(EXAMPLE, "f", "half_plus_two", { labels: { stable: "1.5" } }),
    (error: unknown) =>
      error instanceof UsageError && /Invalid version "1.5" for label "stable"/.test(error.message),
  );
  assert.throws(
    () => editModelConfig(EXAMPLE, "f", "half_plus_two", { labels: { stable: "9223372036854775808" } }),
    UsageError,
  );
  assert.throws(
    () => editModelConfig(EXAMPLE, "f", "half_plus_two", { policy: { specific: { versions: ["x"] } } }),
    /Invalid version policy for model "half_plus_two": Expected integer, got: x/,
  );
  assert.throws(
    () => editModelConfig(EXAMPLE, "f", "half_plus_two", { policy: {} as never }),
    /Invalid version policy .*exactly one of specific, latest or all/,
  );
  assert.throws(() => editModelConfig("model_config_list {", "f", "a", {}), /f:1:20: Expected "}", found ""/);
});

test("conformance: editing TF Serving's good_model_config.txt", { skip: fixturesSkip() }, () => {
  const file = join(TFSERVING_TESTDATA, "good_model_config.txt");
  const text = readFileSync(file, "utf8");
  const edited = editModelConfig(text, file, "half_plus_two", {
    policy: { specific: { versions: ["123"] } },
    labels: { stable: "123" },
  });
  const before = parseTextFormat(text, SERVER, file) as { model_config_list: { config: object[] } };
  const after = parseTextFormat(edited, SERVER, file) as typeof before;
  assert.deepEqual(after.model_config_list.config[1], before.model_config_list.config[1]);
  assert.deepEqual(after.model_config_list.config[0], {
    ...before.model_config_list.config[0],
    model_version_policy: { specific: { versions: ["123"] } },
    version_labels: { stable: "123" },
  });
  assert.ok(edited.endsWith(text.slice(text.indexOf('  },\n  config: {\n    name: "half_plus_three"'))));
  assert.ok(edited.startsWith(text.slice(0, text.indexOf('    model_platform: "tensorflow"\n  },'))));
});

const changeArb: fc.Arbitrary<ModelConfigChange> = fc.record(
  {
    policy: fc.option(versionPolicyArb, { nil: null }),
    labels: labelsArb,
  },
  { requiredKeys: [] },
) as fc.Arbitrary<ModelConfigChange>;

test("property: an edit changes nothing outside the edited model's policy and labels", () => {
  const configWithModels = modelServerConfigArb.filter(
    (c) => ((c.model_config_list as { config?: unknown[] }).config?.length ?? 0) > 0,
  );
  fc.assert(
    fc.property(
      configWithModels,
      fc.nat(),
      fc.integer(),
      fc.boolean(),
      changeArb,
      (config, pick, seed, canonical, change) => {
        const text = canonical
          ? printTextFormat(config, SERVER)
          : writeVariant(config, SERVER, seededRandom(seed));
        const models = (config.model_config_list as { config: Record<string, unknown>[] }).config;
        const index = pick % models.length;
        const target = models[index] as Record<string, unknown>;
        const edited = editModelConfig(text, "p", target.name as string, change);

        const expectedModel = { ...target };
        if (change.policy === null) delete expectedModel.model_version_policy;
        else if (change.policy !== undefined) expectedModel.model_version_policy = change.policy;
        if (change.labels !== undefined) {
          if (Object.keys(change.labels).length === 0) delete expectedModel.version_labels;
          else expectedModel.version_labels = change.labels;
        }
        const expected = {
          model_config_list: { config: models.map((m, i) => (i === index ? expectedModel : m)) },
        };
        assert.deepEqual(parseTextFormat(edited, SERVER, "edited"), expected);

        const { tree } = parseTextFormatTree(text, SERVER, "p");
        const list = tree.fields[0]?.values[0];
        assert.ok(list?.kind === "message");
        const block = list.fields.flatMap((f) => f.values)[index];
        assert.ok(block);
        assert.equal(edited.slice(0, block.start), text.slice(0, block.start), "text before the model block");
        assert.equal(
          edited.slice(edited.length - (text.length - block.end)),
          text.slice(block.end),
          "text after it",
        );
      },
    ),
    { numRuns: 300 },
  );
});
