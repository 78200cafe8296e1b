import assert from "node:assert/strict";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { runCli } from "../src/program.js";
import { captureIo } from "./helpers/capture-io.js";
import { TFSERVING_TESTDATA, fixturesSkip } from "./helpers/fixtures.js";

async function withConfigDir(run: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), "config-command-"));
  try {
    await run(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** A models.config with one model whose base path holds version 1 (so file-system checks pass). */
async function writeValidConfig(dir: string, extra = ""): Promise<string> {
  await mkdir(join(dir, "models", "m", "1"), { recursive: true });
  const file = join(dir, "models.config");
  await writeFile(
    file,
    `model_config_list {
  config {
    name: "m"
    base_path: "${join(dir, "models", "m")}"
    model_platform: "tensorflow"
    ${extra}
  }
}
`,
  );
  return file;
}

test("config check: a valid file exits 0 with a one-line verdict on stderr and nothing on stdout", () =>
  withConfigDir(async (dir) => {
    const file = await writeValidConfig(dir);
    const io = captureIo();
    assert.equal(await runCli(["config", "check", file], io), 0);
    assert.equal(io.out, "");
    assert.equal(io.err, `${file}: valid (0 errors, 0 warnings)\n`);
  }));

test("config check: warnings are printed but exit 0", () =>
  withConfigDir(async (dir) => {
    const file = await writeValidConfig(dir, "model_version_policy { specific { } }");
    const io = captureIo();
    assert.equal(await runCli(["config", "check", file], io), 0);
    assert.equal(
      io.err,
      `${file}: model m: warning: No specific versions requested for servable m.\n` +
        "  hint: an empty specific {} list unloads every version of the model; list the versions to serve\n" +
        `${file}: valid (0 errors, 1 warning)\n`,
    );
  }));

test("config check: errors exit 1, each as FILE: model NAME: message plus a hint", () =>
  withConfigDir(async (dir) => {
    const file = join(dir, "models.config");
    await writeFile(
      file,
      'model_config_list { config { name: "a" base_path: "rel/a" model_platform: "tensorflow" } ' +
        'config { name: "a" base_path: "/abs" model_platform: "onnx" } }\n',
    );
    const io = captureIo();
    assert.equal(await runCli(["config", "check", "--no-fs-check", file], io), 1);
    assert.equal(io.out, "");
    const lines = io.err.split("\n");
    assert.deepEqual(
      lines.filter((l) => !l.startsWith("  hint: ")),
      [
        `${file}: model a: Expected model a to have an absolute path or URI; got base_path()=rel/a`,
        `${file}: model a: Illegal to list model a multiple times in config list`,
        `${file}: model a: Model a requests unsupported platform onnx`,
        `${file}: invalid (3 errors, 0 warnings)`,
        "",
      ],
    );
    assert.equal(lines.filter((l) => l.startsWith("  hint: ")).length, 3);
  }));

test("config check: file-system checks run by default and --no-fs-check skips them", () =>
  withConfigDir(async (dir) => {
    const file = join(dir, "models.config");
    const missing = join(dir, "nowhere");
    await writeFile(
      file,
      `model_config_list { config { name: "m" base_path: "${missing}" model_platform: "tensorflow" } }\n`,
    );
    const io = captureIo();
    assert.equal(await runCli(["config", "check", file], io), 0);
    assert.match(io.err, new RegExp(`model m: warning: Could not find base path ${missing} for servable m`));
    const skipped = captureIo();
    assert.equal(await runCli(["config", "check", "--no-fs-check", file], skipped), 0);
    assert.equal(skipped.err, `${file}: valid (0 errors, 0 warnings)\n`);
  }));

test("config check --allow-version-labels silences the restart warning for labels", () =>
  withConfigDir(async (dir) => {
    const file = await writeValidConfig(
      dir,
      'model_version_policy { specific { versions: 1 } } version_labels { key: "stable" value: 1 }',
    );
    const io = captureIo();
    assert.equal(await runCli(["config", "check", "--json", file], io), 0);
    const codes = (JSON.parse(io.out) as { findings: { code: string }[] }).findings.map((f) => f.code);
    assert.deepEqual(codes, ["labels-need-allow-flag"]);
    const allowed = captureIo();
    assert.equal(await runCli(["config", "check", "--json", "--allow-version-labels", file], allowed), 0);
    assert.deepEqual(JSON.parse(allowed.out).findings, []);
  }));

test("config check --json: the findings on stdout alone, exit code still 1 on errors", () =>
  withConfigDir(async (dir) => {
    const file = join(dir, "models.config");
    await writeFile(file, 'model_config_list { config { name: "x" base_path: "/x" } }\n');
    const io = captureIo();
    assert.equal(await runCli(["config", "check", "--json", "--no-fs-check", file], io), 1);
    assert.equal(io.err, "");
    assert.deepEqual(JSON.parse(io.out), {
      file,
      valid: false,
      errors: 1,
      warnings: 0,
      findings: [
        {
          severity: "error",
          code: "missing-platform",
          model: "x",
          path: "model_config_list.config[0].model_platform",
          message:
            "Illegal setting neither ModelServerConfig::model_type (deprecated) nor ModelServerConfig::model_platform, model name is x",
          hint: 'write model_platform: "tensorflow" (the only platform the stock binary serves)',
        },
      ],
    });
  }));

test("config check: a parse error is located on stderr, exit 1 (also as a JSON finding with --json)", () =>
  withConfigDir(async (dir) => {
    await writeFile(join(dir, "bad.config"), "model_config_list {\n  config { name: 5 }\n");
    const human = captureIo();
    human.cwd = dir;
    assert.equal(await runCli(["config", "check", "bad.config"], human), 1);
    assert.equal(human.out, "");
    assert.match(human.err, /^tfs-rollout: bad\.config:2:\d+: /);
    assert.match(human.err, /\n {2}hint: /);
    const json = captureIo();
    json.cwd = dir;
    assert.equal(await runCli(["config", "check", "--json", "bad.config"], json), 1);
    const report = JSON.parse(json.out) as { valid: boolean; findings: { code: string; message: string }[] };
    assert.equal(report.valid, false);
    assert.equal(report.findings[0]!.code, "unreadable");
    assert.match(report.findings[0]!.message, /^bad\.config:2:\d+: /);
  }));

test("config check: a missing file exits 1 with the path and a hint", async () => {
  const io = captureIo();
  assert.equal(await runCli(["config", "check", "/nonexistent/models.config"], io), 1);
  assert.equal(
    io.err,
    "tfs-rollout: /nonexistent/models.config: no such file\n" +
      "  hint: pass the path of the models.config given to TF Serving's --model_config_file\n",
  );
});

test("config print --json: protobuf JSON on stdout, int64 exact, warnings irrelevant", () =>
  withConfigDir(async (dir) => {
    const file = join(dir, "models.config");
    await writeFile(
      file,
      'model_config_list { config { name: "m" base_path: "relative" ' +
        "model_version_policy { specific { versions: 9007199254740993 } } " +
        'version_labels { key: "canary" value: 9007199254740993 } } ' +
        'config { name: "n" model_version_policy { all { } } } }\n',
    );
    const io = captureIo();
    assert.equal(await runCli(["config", "print", "--json", file], io), 0);
    assert.equal(io.err, "");
    assert.match(io.out, /"9007199254740993"/);
    assert.deepEqual(JSON.parse(io.out), {
      modelConfigList: {
        config: [
          {
            name: "m",
            basePath: "relative",
            modelVersionPolicy: { specific: { versions: ["9007199254740993"] } },
            versionLabels: { canary: "9007199254740993" },
          },
          { name: "n", modelVersionPolicy: { all: {} } },
        ],
      },
    });
    const snake = captureIo();
    assert.equal(await runCli(["config", "print", "--json", "--proto-names", file], snake), 0);
    assert.deepEqual(Object.keys(JSON.parse(snake.out).model_config_list.config[0]), [
      "name",
      "base_path",
      "model_version_policy",
      "version_labels",
    ]);
  }));

test("config print without --json is a usage error (exit 2) that says what to run", async () => {
  const io = captureIo();
  assert.equal(await runCli(["config", "print", "x.config"], io), 2);
  assert.match(io.err, /needs --json/);
  assert.match(io.err, /tfs-rollout config print --json x\.config/);
});

test(
  "conformance: TF Serving's good_model_config.txt parses; its ${...} base paths fail as TF would say",
  {
    skip: fixturesSkip(),
  },
  async () => {
    const file = join(TFSERVING_TESTDATA, "good_model_config.txt");
    const printed = captureIo();
    assert.equal(await runCli(["config", "print", "--json", file], printed), 0);
    assert.deepEqual(JSON.parse(printed.out), {
      modelConfigList: {
        config: [
          { name: "half_plus_two", basePath: "${TEST_HALF_PLUS_TWO_DIR}", modelPlatform: "tensorflow" },
          { name: "half_plus_three", basePath: "${TEST_HALF_PLUS_THREE_DIR}", modelPlatform: "tensorflow" },
        ],
      },
    });
    // TF Serving's tests substitute the placeholders before use; unsubstituted, ValidateModelConfigList rejects them.
    const checked = captureIo();
    assert.equal(await runCli(["config", "check", "--json", file], checked), 1);
    const report = JSON.parse(checked.out) as { findings: { severity: string; message: string }[] };
    assert.deepEqual(
      report.findings.map((f) => [f.severity, f.message]),
      [
        [
          "error",
          "Expected model half_plus_two to have an absolute path or URI; got base_path()=${TEST_HALF_PLUS_TWO_DIR}",
        ],
        [
          "error",
          "Expected model half_plus_three to have an absolute path or URI; got base_path()=${TEST_HALF_PLUS_THREE_DIR}",
        ],
      ],
    );
  },
);

test(
  "conformance: TF Serving's bad_model_config.txt is a located parse error, exit 1",
  {
    skip: fixturesSkip(),
  },
  async () => {
    const file = join(TFSERVING_TESTDATA, "bad_model_config.txt");
    for (const argv of [
      ["config", "print", "--json", file],
      ["config", "check", file],
    ]) {
      const io = captureIo();
      assert.equal(await runCli(argv, io), 1, argv.join(" "));
      assert.equal(io.out, "");
      assert.match(io.err, new RegExp(`${file}:1:\\d+: .*has no field named "improperly"`));
    }
  },
);
