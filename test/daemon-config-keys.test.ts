import assert from "node:assert/strict";
import { test } from "node:test";
import { loadDaemonConfig } from "../src/daemon-config/load.js";
import type { DaemonConfigFlags } from "../src/daemon-config/flags.js";
import { DaemonConfigError } from "../src/daemon-config/problems.js";
import { overridesOfUnknownModels } from "../src/daemon-config/rules.js";
import { memoryReader } from "./helpers/daemon-config-reader.js";

const FILE = "/cfg/daemon.yaml";

/** Block YAML putting `value` at a nested key path, one key per line; returns the text and the value's LINE:COL. */
function nested(path: string[], value: string): { text: string; at: string } {
  const lines = path.map(
    (key, depth) => `${"  ".repeat(depth)}${key}:${depth === path.length - 1 ? ` ${value}` : ""}`,
  );
  const depth = path.length - 1;
  return { text: `${lines.join("\n")}\n`, at: `${path.length}:${2 * depth + path[depth]!.length + 3}` };
}

async function problemsOf(
  text: string,
  flags: DaemonConfigFlags = { modelConfigFile: "/m" },
): Promise<DaemonConfigError["problems"]> {
  try {
    await loadDaemonConfig({ config: FILE, ...flags }, {}, memoryReader({ [FILE]: text }));
  } catch (error) {
    assert.ok(error instanceof DaemonConfigError, String(error));
    return error.problems;
  }
  assert.fail(`accepted:\n${text}`);
}

/** [key path, bad YAML value, expected message, expected hint fragment]. */
const BAD_VALUES: [string, string, RegExp, RegExp][] = [
  ["tf_serving.grpc_address", "localhost", /^"localhost" is not HOST:PORT/, /127\.0\.0\.1:8500/],
  ["tf_serving.grpc_address", "h:70000", /is not HOST:PORT/, /HOST:PORT/],
  ["tf_serving.rest_url", "ftp://h:8501", /^"ftp:\/\/h:8501" is not an http/, /rest_url: http:/],
  ["tf_serving.call_deadline", "30 s", /^"30 s" is not a duration$/, /500ms, 2s, 10m, 1h/],
  ["tf_serving.reload_deadline", "0", /^0 must be at least 1ms$/, /call_deadline|reload_deadline: 2s/],
  ["tf_serving.max_receive_message_size", "64MB", /^"64MB" is not a byte size$/, /64MiB/],
  ["tf_serving.tls.ca_file", '""', /^"" must not be empty$/, /PEM/],
  ["tf_serving.tls.cert_file", "5", /^expected a string, got 5$/, /PEM/],
  ["tf_serving.tls.key_file", "[]", /^expected a string, got \[\]$/, /PEM/],
  ["tf_serving.tls.server_name_override", '""', /must not be empty/, /PEM/],
  ["tf_serving.retry.attempts", "0", /^0 must be at least 1$/, /attempts: 5/],
  ["tf_serving.retry.attempts", "2.5", /^expected a whole number, got 2\.5$/, /attempts: 5/],
  ["tf_serving.retry.initial_backoff", "-1s", /is not a duration/, /initial_backoff: 2s/],
  ["tf_serving.retry.max_backoff", "2 min", /is not a duration/, /2s/],
  ["tf_serving.retry.overall_deadline", "0", /must be at least 1ms/, /2s/],
  ["model_config_file", "7", /^expected a string, got 7$/, /--model_config_file/],
  ["state_dir", '""', /must not be empty/, /state_dir: \/var\/lib\/tfs-rollout/],
  ["models", "[]", /^\[\] must list at least one model/, /omit it to manage every model/],
  ["models", "resnet", /^expected a list, got "resnet"$/, /models: \[resnet, bert\]/],
  [
    "watch.use_polling",
    "yes",
    /^expected a boolean, got "yes" \(YAML 1\.2 reads yes\/no\/on\/off as text/,
    /true or false/,
  ],
  ["watch.poll_interval", "0", /must be at least 1ms/, /poll_interval: 2s/],
  [
    "watch.rescan_cron",
    '"*/30 * * *"',
    /^"\*\/30 \* \* \*" is not a valid cron expression/,
    /node-cron expression/,
  ],
  ["watch.rescan_cron", '"61 * * * *"', /is not a valid cron expression \(.*minute/, /5 fields or 6/],
  ["watch.rescan_cron", "30", /^expected a string, got 30$/, /quoted/],
  ["watch.resync_cron", '"0 */10 * *"', /is not a valid cron expression/, /resync_cron: "0 \*\/30/],
  ["admission.quiet_window", "2 sec", /^"2 sec" is not a duration$/, /quiet_window: 2s/],
  ["admission.marker_file", "done/_SUCCESS", /must be a plain file name/, /marker_file: _SUCCESS/],
  ["admission.marker_file", "..", /must be a plain file name/, /_SUCCESS/],
  ["admission.incomplete_deadline", "0", /must be at least 1ms/, /incomplete_deadline: 2s/],
  ["rollout.load_deadline", "0.5ms", /is not a whole number of milliseconds/, /load_deadline: 2s/],
  ["rollout.max_parallel_models", "0", /must be at least 1/, /max_parallel_models: 4/],
  ["rollout.reload_coalesce_window", "true", /^true is not a duration$/, /2s/],
  ["gate.request_deadline", "10x", /is not a duration/, /request_deadline: 2s/],
  ["gate.use_rest", '"true"', /^expected a boolean, got "true"$/, /needs tf_serving\.rest_url/],
  ["gate.signature_name", '""', /must not be empty/, /serving_default/],
  ["gate.allow_breaking_signature", "1", /^expected a boolean, got 1$/, /default false/],
  ["gate.requests", "{}", /^expected a list, got \{\}$/, /name, inputs/],
  ["rollback.action", "remove", /^"remove" is not one of rename, delete$/, /action: rename/],
  [
    "logging.level",
    "verbose",
    /^"verbose" is not one of trace, debug, info, warn, error, fatal, silent$/,
    /level: info/,
  ],
  ["logging.pretty", "on", /YAML 1\.2 reads yes\/no\/on\/off as text/, /pretty: true/],
  ["http.listen", "9464", /^9464 is not HOST:PORT or off$/, /listen: 127\.0\.0\.1:9464 .*listen: off/],
  ["http.listen", ":9464", /^":9464" has no host$/, /0\.0\.0\.0:9464/],
  ["http.listen", "localhost:99999", /has port "99999", which is not a number from 0 to 65535/, /HOST:PORT/],
  ["http.listen", "::1:9464", /looks like a bare IPv6 address/, /HOST:PORT/],
  ["http.listen", "true", /^true is not HOST:PORT or off$/, /listen: off/],
  ["notifications.webhooks", "https://h", /^expected a list, got "https:\/\/h"$/, /\{ url, secret_env\?/],
  ["models_overrides", "[]", /^expected a map, got \[\]$/, /models_overrides: \{ resnet/],
  ["models_overrides.m", "5", /^expected a map of keys, got 5$/, /models_overrides: \{ resnet/],
  ["models_overrides.m.rollback.action", "shred", /is not one of rename, delete/, /action: rename/],
  ["models_overrides.m.admission.quiet_window", "2 sec", /is not a duration/, /quiet_window: 2s/],
  ["models_overrides.m.gate.allow_breaking_signature", "yes", /expected a boolean/, /default false/],
  ["models_overrides.m.watch.use_polling", "no", /expected a boolean/, /true or false/],
  ["models_overrides.m.rollout.load_deadline", "forever", /is not a duration/, /load_deadline: 2s/],
];

test("every key: a bad value is reported with its key path, FILE:LINE:COL, what is wrong and the fix", async () => {
  for (const [path, value, message, hint] of BAD_VALUES) {
    const { text, at } = nested(path.split("."), value);
    // No --model-config-file, so the file's own model_config_file is what is checked.
    const problems = await problemsOf(text, {});
    assert.equal(problems.length, 1, `${path}: ${JSON.stringify(problems)}`);
    const [problem] = problems;
    assert.equal(problem!.path, path);
    assert.equal(problem!.where, `${FILE}:${at}`, path);
    assert.match(problem!.message, message, path);
    assert.match(problem!.hint ?? "", hint, path);
  }
});

test("gate requests: each field is checked at its list position", async () => {
  const text = [
    "gate:",
    "  requests:",
    "    - name: ok",
    "      inputs: { x: [[1.0]] }",
    "    - inputs: {}",
    "      tolerance: { absolute: -1 }",
    "",
  ].join("\n");
  const problems = await problemsOf(text);
  assert.deepEqual(
    problems.map((problem) => [problem.where, problem.path, problem.message]),
    [
      [`${FILE}:5:7`, "gate.requests[1].name", "is required"],
      [`${FILE}:5:15`, "gate.requests[1].inputs", "{} must name at least one input"],
      [`${FILE}:6:30`, "gate.requests[1].tolerance.absolute", "-1 must be >= 0"],
    ],
  );
  assert.match(problems[1]!.hint!, /REST "inputs"/);
});

test("notifications.webhooks: each field is checked at its list position; secrets are named, never given", async () => {
  const text = [
    "notifications:",
    "  webhooks:",
    "    - url: https://hooks.example/ok",
    "    - url: ftp://hooks.example",
    "      secret_env: my-secret",
    "      timeout: 0",
    "      retries: 1.5",
    "      events: [promoted, deployed]",
    "    - secret: s3cr3t",
    "",
  ].join("\n");
  const problems = await problemsOf(text);
  assert.deepEqual(
    problems.map((problem) => [problem.where, problem.path, problem.message]),
    [
      [
        `${FILE}:4:12`,
        "notifications.webhooks[1].url",
        '"ftp://hooks.example" is not an http:// or https:// URL',
      ],
      [
        `${FILE}:5:19`,
        "notifications.webhooks[1].secret_env",
        '"my-secret" is not an environment variable name (letters, digits and _, not starting with a digit)',
      ],
      [`${FILE}:6:16`, "notifications.webhooks[1].timeout", "0 must be at least 1ms"],
      [`${FILE}:7:16`, "notifications.webhooks[1].retries", "expected a whole number, got 1.5"],
      [
        `${FILE}:8:26`,
        "notifications.webhooks[1].events[1]",
        '"deployed" is not one of candidate_detected, gate_failed, promoted, rolled_back, stuck_past_deadline, approval_waiting',
      ],
      [`${FILE}:9:7`, "notifications.webhooks[2].url", "is required"],
      [`${FILE}:9:7`, "notifications.webhooks[2].secret", "unknown key"],
    ],
  );
  assert.match(problems[1]!.hint!, /NAME of an environment variable/);
  assert.match(problems[2]!.hint!, /timeout: 2s/);
  assert.equal(problems[6]!.hint, "did you mean secret_env?");
});

test("http.listen and notifications: defaults, off, port 0 and full webhook entries", async () => {
  const load = (text: string) =>
    loadDaemonConfig({ config: FILE, modelConfigFile: "/m" }, {}, memoryReader({ [FILE]: text }));
  assert.equal((await load("")).http.listen, "127.0.0.1:9464");
  assert.deepEqual((await load("")).notifications, { webhooks: [] });
  assert.equal((await load("http: { listen: off }")).http.listen, null);
  assert.equal((await load("http: { listen: false }")).http.listen, null);
  assert.equal((await load("http: { listen: '[::1]:0' }")).http.listen, "[::1]:0");
  const hooks = await load(
    [
      "notifications:",
      "  webhooks:",
      "    - url: http://127.0.0.1:9000/hook",
      "    - { url: https://h/x, secret_env: HOOK_KEY, timeout: 1500ms, retries: 0, events: [rolled_back] }",
    ].join("\n"),
  );
  assert.deepEqual(hooks.notifications.webhooks, [
    { url: "http://127.0.0.1:9000/hook", timeout: 5000, retries: 3 },
    { url: "https://h/x", secret_env: "HOOK_KEY", timeout: 1500, retries: 0, events: ["rolled_back"] },
  ]);
});

test("unknown keys at every level are errors with a did-you-mean, located at the key", async () => {
  const cases: [string, string, string, string | RegExp][] = [
    ["tf_servng:\n  grpc_address: h:1\n", "tf_servng", "1:1", "did you mean tf_serving?"],
    ["admission:\n  quiet_windw: 2s\n", "admission.quiet_windw", "2:3", "did you mean quiet_window?"],
    ["admission:\n  quietWindow: 2s\n", "admission.quietWindow", "2:3", "did you mean quiet_window?"],
    [
      "tf_serving:\n  tls:\n    ca: x\n",
      "tf_serving.tls.ca",
      "3:5",
      /valid keys in tf_serving\.tls: ca_file, cert_file/,
    ],
    [
      "gate:\n  requests:\n    - name: a\n      inputs: {x: 1}\n      expected: {}\n",
      "gate.requests[0].expected",
      "5:7",
      "did you mean expected_outputs?",
    ],
    [
      "models_overrides:\n  m:\n    rollout:\n      max_parallel_models: 2\n",
      "models_overrides.m.rollout.max_parallel_models",
      "4:7",
      /valid keys in models_overrides\.m\.rollout: load_deadline/,
    ],
    [
      "models_overrides:\n  m:\n    logging: {}\n",
      "models_overrides.m.logging",
      "3:5",
      /valid keys in models_overrides\.m: watch, admission, rollout, gate, rollback/,
    ],
    ["colour: blue\n", "colour", "1:1", /valid keys at the top level: tf_serving, model_config_file/],
  ];
  for (const [text, path, at, hint] of cases) {
    const problems = await problemsOf(text);
    assert.equal(problems.length, 1, path);
    assert.equal(problems[0]!.path, path);
    assert.equal(problems[0]!.message, "unknown key");
    assert.equal(problems[0]!.where, `${FILE}:${at}`, path);
    if (typeof hint === "string") assert.equal(problems[0]!.hint, hint, path);
    else assert.match(problems[0]!.hint!, hint, path);
  }
});

test("cross-key rules point at the key to change", async () => {
  const cases: [string, string, string, RegExp][] = [
    [
      "tf_serving:\n  tls:\n    cert_file: c.pem\n",
      "tf_serving.tls.cert_file",
      "3:16",
      /cert_file and key_file go together/,
    ],
    [
      "tf_serving:\n  retry:\n    initial_backoff: 5s\n    max_backoff: 1s\n",
      "tf_serving.retry.max_backoff",
      "4:18",
      /\(1s\) is shorter than initial_backoff \(5s\)/,
    ],
    [
      "admission:\n  quiet_window: 1h\n  incomplete_deadline: 30m\n",
      "admission.incomplete_deadline",
      "3:24",
      /must be longer than quiet_window/,
    ],
    ["gate:\n  use_rest: true\n", "gate.use_rest", "2:13", /tf_serving\.rest_url is not set/],
    ["models: [a, a]\n", "models[1]", "1:13", /lists "a" twice/],
    ["models: [resnet]\nmodels_overrides:\n  resnt: {}\n", "models_overrides.resnt", "3:3", /not in models/],
    [
      "gate:\n  requests:\n    - { name: a, inputs: { x: 1 } }\n    - { name: a, inputs: { x: 2 } }\n",
      "gate.requests[1].name",
      "4:15",
      /"a" names two requests/,
    ],
    [
      "models_overrides:\n  m:\n    admission: { quiet_window: 1h }\n",
      "models_overrides.m.admission.quiet_window",
      "3:32",
      /must be longer than quiet_window/,
    ],
    [
      "models_overrides:\n  m:\n    gate: { use_rest: true }\n",
      "models_overrides.m.gate.use_rest",
      "3:23",
      /rest_url is not set/,
    ],
  ];
  for (const [text, path, at, message] of cases) {
    const problems = await problemsOf(text);
    assert.equal(problems.length, 1, `${path}: ${JSON.stringify(problems)}`);
    assert.equal(problems[0]!.path, path);
    assert.equal(problems[0]!.where, `${FILE}:${at}`, path);
    assert.match(problems[0]!.message, message, path);
  }
  const typo = await problemsOf("models: [resnet]\nmodels_overrides:\n  resnt: {}\n");
  assert.equal(typo[0]!.hint, 'did you mean "resnet"?');
});

test("valid values of every kind are accepted and normalised", async () => {
  const text = [
    "tf_serving:",
    "  grpc_address: tfs.internal:8500",
    "  rest_url: http://tfs.internal:8501",
    "  call_deadline: 1500",
    "  max_receive_message_size: 512KiB",
    "  tls: { ca_file: /pki/ca.pem, cert_file: c.pem, key_file: k.pem, server_name_override: tfs }",
    "  retry: { attempts: 1, initial_backoff: 0, max_backoff: 0, overall_deadline: 1ms }",
    "watch: { use_polling: true, poll_interval: 2.5s, rescan_cron: '0 */5 * * * *' }",
    "admission: { quiet_window: 0, marker_file: _SUCCESS, incomplete_deadline: 1d }",
    "rollout: { load_deadline: 1h, max_parallel_models: 1, reload_coalesce_window: 0 }",
    "gate:",
    "  use_rest: false",
    "  requests:",
    "    - name: known",
    "      inputs: { x: [[1, 2]], y: 'text' }",
    "      expected_outputs: { z: [0.5] }",
    "      tolerance: { relative: 0.01 }",
    "rollback: { action: delete }",
    "logging: { level: warn, pretty: true }",
    "",
  ].join("\n");
  const config = await loadDaemonConfig(
    { config: FILE, modelConfigFile: "/m" },
    {},
    memoryReader({ [FILE]: text }),
  );
  assert.equal(config.tf_serving.call_deadline, 1500);
  assert.equal(config.tf_serving.max_receive_message_size, 512 * 1024);
  assert.deepEqual(config.tf_serving.tls, {
    ca_file: "/pki/ca.pem",
    cert_file: "/cfg/c.pem",
    key_file: "/cfg/k.pem",
    server_name_override: "tfs",
  });
  assert.deepEqual(config.tf_serving.retry, {
    attempts: 1,
    initial_backoff: 0,
    max_backoff: 0,
    overall_deadline: 1,
  });
  assert.deepEqual(config.watch, {
    use_polling: true,
    poll_interval: 2500,
    rescan_cron: "0 */5 * * * *",
    resync_cron: "0 */30 * * * *",
  });
  assert.deepEqual(config.admission, {
    quiet_window: 0,
    marker_file: "_SUCCESS",
    incomplete_deadline: 86_400_000,
  });
  assert.deepEqual(config.rollout, {
    load_deadline: 3_600_000,
    max_parallel_models: 1,
    reload_coalesce_window: 0,
  });
  assert.equal(config.gate.use_rest, false, "explicit false wins over the rest_url default");
  assert.deepEqual(config.gate.requests, [
    {
      name: "known",
      inputs: { x: [[1, 2]], y: "text" },
      expected_outputs: { z: [0.5] },
      tolerance: { absolute: 1e-6, relative: 0.01 },
    },
  ]);
  assert.deepEqual(config.rollback, { action: "delete" });
  assert.deepEqual(config.logging, { level: "warn", pretty: true });
});

test("overrides for models outside the managed set: an error against the file's models, not a --models flag", async () => {
  const text = "models: [resnet, bert]\nmodels_overrides:\n  bert: { rollback: { action: delete } }\n";
  const narrowed = await loadDaemonConfig(
    { config: FILE, modelConfigFile: "/m", models: "resnet" },
    {},
    memoryReader({ [FILE]: text }),
  );
  assert.deepEqual(narrowed.models, ["resnet"], "a one-off --models run keeps the other models' overrides");
  assert.equal(narrowed.models_overrides.bert?.rollback?.action, "delete");

  assert.deepEqual(overridesOfUnknownModels(narrowed, ["resnet", "bert"]), []);
  assert.deepEqual(overridesOfUnknownModels(narrowed, ["resnet", "berta"]), [
    {
      path: ["models_overrides", "bert"],
      message: 'overrides "bert", which is not in models.config',
      hint: 'did you mean "berta"?',
    },
  ]);
  assert.match(overridesOfUnknownModels(narrowed, ["x"])[0]!.hint!, /add "bert" to models.config or remove/);
});
