import assert from "node:assert/strict";
import { test } from "node:test";
import { DEFAULT_CONFIG_FILE, DEFAULTS } from "../src/daemon-config/defaults.js";
import { loadDaemonConfig } from "../src/daemon-config/load.js";
import { DaemonConfigError } from "../src/daemon-config/problems.js";
import { ExitCode, exitCodeOf, UsageError } from "../src/errors.js";
import { memoryReader } from "./helpers/daemon-config-reader.js";

const FILE = "/etc/tfs-rollout/custom.yaml";

async function loadError(...args: Parameters<typeof loadDaemonConfig>): Promise<DaemonConfigError> {
  try {
    await loadDaemonConfig(...args);
  } catch (error) {
    assert.ok(error instanceof DaemonConfigError, `expected DaemonConfigError, got ${String(error)}`);
    return error;
  }
  assert.fail("the config loaded without error");
}

test("with only --model-config-file, every default is the safe one", async () => {
  const config = await loadDaemonConfig({ modelConfigFile: "/models/models.config" }, {}, memoryReader());
  assert.deepEqual(config, {
    tf_serving: {
      grpc_address: "127.0.0.1:8500",
      call_deadline: 30_000,
      reload_deadline: 360_000,
      max_receive_message_size: 64 * 1024 * 1024,
      retry: { attempts: 5, initial_backoff: 1000, max_backoff: 120_000, overall_deadline: 60_000 },
    },
    model_config_file: "/models/models.config",
    state_dir: "/var/lib/tfs-rollout",
    watch: {
      use_polling: false,
      poll_interval: 1000,
      rescan_cron: "*/30 * * * * *",
      resync_cron: "0 */30 * * * *",
    },
    admission: { quiet_window: 2000, incomplete_deadline: 1_800_000 },
    rollout: { load_deadline: 600_000, max_parallel_models: 4, reload_coalesce_window: 500 },
    gate: {
      request_deadline: 10_000,
      use_rest: false,
      signature_name: "serving_default",
      allow_breaking_signature: false,
      requests: [],
      golden_files: [],
      warmup_replay: { enabled: true, max_records: 100 },
      stable_diff: { enabled: false, requests: 20 },
      latency: { enabled: false, requests: 20, floor: 5 },
    },
    rollback: { action: "rename" },
    bake: { period: 600_000, probe_cron: "*/30 * * * * *", keep_previous: 1 },
    promotion: { timezone: "UTC", windows: [], freezes: [] },
    approval: { required: false, on_timeout: "reject" },
    retention: { enabled: false, keep_promoted: 3, keep_rejected_for: 604_800_000, cron: "0 3 * * *" },
    logging: { level: "info", pretty: false },
    http: { listen: "127.0.0.1:9464" },
    notifications: { webhooks: [] },
    coordination: {
      backend: "local",
      etcd: { endpoints: [], prefix: "/tfs-rollout/", lease_ttl: 10_000, dial_timeout: 5000 },
      fleet: { max_loading: 1, policy: "all" },
    },
    models_overrides: {},
    once: false,
    config_file: null,
  });
  assert.equal(config.models, undefined, "no filter: every model in models.config");
});

test("the default config file is read only when it exists", async () => {
  const absent = memoryReader();
  const config = await loadDaemonConfig({ modelConfigFile: "/m" }, {}, absent);
  assert.deepEqual(absent.reads, [DEFAULT_CONFIG_FILE]);
  assert.equal(config.config_file, null);

  const present = memoryReader({ [DEFAULT_CONFIG_FILE]: "model_config_file: /models/models.config\n" });
  const fromFile = await loadDaemonConfig({}, {}, present);
  assert.equal(fromFile.model_config_file, "/models/models.config");
  assert.equal(fromFile.config_file, DEFAULT_CONFIG_FILE);
});

test("an explicitly given config file that is missing or unreadable is a usage error naming it", async () => {
  await assert.rejects(
    loadDaemonConfig({ config: "nope.yaml", modelConfigFile: "/m" }, {}, memoryReader({}, "/srv/work")),
    (error: unknown) =>
      error instanceof UsageError &&
      error.where === "/srv/work/nope.yaml" &&
      /does not exist/.test(error.message) &&
      exitCodeOf(error) === ExitCode.usage,
  );
  const reader = memoryReader();
  reader.read = async () => {
    throw Object.assign(new Error("EACCES: permission denied"), { code: "EACCES" });
  };
  await assert.rejects(
    loadDaemonConfig({ modelConfigFile: "/m" }, {}, reader),
    (error: unknown) =>
      error instanceof UsageError &&
      error.where === DEFAULT_CONFIG_FILE &&
      /permission denied/.test(error.message),
  );
});

test("precedence: flags > file > defaults, for every overriding flag", async () => {
  const file = [
    "model_config_file: /file/models.config",
    "state_dir: /file/state",
    "models: [a, b]",
    "tf_serving:",
    "  grpc_address: file-host:9000",
    "  rest_url: http://file-host:9001",
    "logging:",
    "  pretty: false",
    "  level: debug",
    "",
  ].join("\n");
  const reader = memoryReader({ [FILE]: file });
  const fromFile = await loadDaemonConfig({ config: FILE }, { STATE_DIRECTORY: "/run/sd" }, reader);
  assert.equal(fromFile.model_config_file, "/file/models.config");
  assert.equal(fromFile.state_dir, "/file/state", "the file beats $STATE_DIRECTORY, which is only a default");
  assert.deepEqual(fromFile.models, ["a", "b"]);
  assert.equal(fromFile.tf_serving.grpc_address, "file-host:9000");
  assert.equal(fromFile.tf_serving.rest_url, "http://file-host:9001");
  assert.equal(fromFile.gate.use_rest, true, "a REST URL turns the REST gate on by default");
  assert.equal(fromFile.logging.pretty, false);
  assert.equal(fromFile.once, false);

  const fromFlags = await loadDaemonConfig(
    {
      config: FILE,
      modelConfigFile: "/flag/models.config",
      stateDir: "/flag/state",
      models: "c, d",
      grpc: "flag-host:8500",
      rest: "https://flag-host:8501",
      pretty: true,
      once: true,
    },
    { STATE_DIRECTORY: "/run/sd" },
    reader,
  );
  assert.equal(fromFlags.model_config_file, "/flag/models.config");
  assert.equal(fromFlags.state_dir, "/flag/state");
  assert.deepEqual(fromFlags.models, ["c", "d"]);
  assert.equal(fromFlags.tf_serving.grpc_address, "flag-host:8500");
  assert.equal(fromFlags.tf_serving.rest_url, "https://flag-host:8501");
  assert.equal(fromFlags.logging.pretty, true);
  assert.equal(fromFlags.logging.level, "debug", "keys without a flag still come from the file");
  assert.equal(fromFlags.once, true);
});

test("relative paths: from the file, against its directory; from flags, against the working directory", async () => {
  const reader = memoryReader(
    {
      [FILE]:
        "model_config_file: models.config\nstate_dir: ../state\ntf_serving:\n  tls: { ca_file: ca.pem }\n",
    },
    "/home/op",
  );
  const fromFile = await loadDaemonConfig({ config: FILE }, {}, reader);
  assert.equal(fromFile.model_config_file, "/etc/tfs-rollout/models.config");
  assert.equal(fromFile.state_dir, "/etc/state");
  assert.deepEqual(fromFile.tf_serving.tls, { ca_file: "/etc/tfs-rollout/ca.pem" });
  const fromFlags = await loadDaemonConfig(
    { config: FILE, modelConfigFile: "m/models.config", stateDir: "st" },
    {},
    reader,
  );
  assert.equal(fromFlags.model_config_file, "/home/op/m/models.config");
  assert.equal(fromFlags.state_dir, "/home/op/st");
});

test("STATE_DIRECTORY: the first of systemd's colon-separated list, ignored when empty", async () => {
  const load = (env: NodeJS.ProcessEnv) => loadDaemonConfig({ modelConfigFile: "/m" }, env, memoryReader());
  assert.equal(
    (await load({ STATE_DIRECTORY: "/var/lib/tfs-rollout-a" })).state_dir,
    "/var/lib/tfs-rollout-a",
  );
  assert.equal((await load({ STATE_DIRECTORY: "/var/lib/one:/var/lib/two" })).state_dir, "/var/lib/one");
  assert.equal((await load({ STATE_DIRECTORY: "" })).state_dir, "/var/lib/tfs-rollout");
  assert.equal((await load({})).state_dir, "/var/lib/tfs-rollout");
  const flagWins = await loadDaemonConfig(
    { modelConfigFile: "/m", stateDir: "/x" },
    { STATE_DIRECTORY: "/sd" },
    memoryReader(),
  );
  assert.equal(flagWins.state_dir, "/x");
});

test("model_config_file is required, from the file or the flag", async () => {
  const error = await loadError({}, {}, memoryReader());
  assert.equal(error.problems.length, 1);
  assert.equal(error.problems[0]!.path, "model_config_file");
  assert.match(error.problems[0]!.message, /is not set/);
  assert.match(error.problems[0]!.hint!, /--model-config-file/);
});

test("an empty config file means defaults; a non-map file is an error", async () => {
  const empty = await loadDaemonConfig(
    { config: FILE, modelConfigFile: "/m" },
    {},
    memoryReader({ [FILE]: "" }),
  );
  assert.equal(empty.rollback.action, DEFAULTS.rollback.action);
  const comments = await loadDaemonConfig(
    { config: FILE, modelConfigFile: "/m" },
    {},
    memoryReader({ [FILE]: "# nothing yet\n" }),
  );
  assert.equal(comments.admission.quiet_window, 2000);
  const list = await loadError(
    { config: FILE, modelConfigFile: "/m" },
    {},
    memoryReader({ [FILE]: "- a\n- b\n" }),
  );
  assert.match(list.message, /must be a map of keys/);
  assert.equal(list.where, `${FILE}:1:1`);
});

test("YAML syntax errors and duplicate keys are located", async () => {
  const duplicate = await loadError(
    { config: FILE },
    {},
    memoryReader({ [FILE]: "admission:\n  quiet_window: 2s\n  quiet_window: 3s\n" }),
  );
  assert.equal(duplicate.where, `${FILE}:3:3`);
  assert.match(duplicate.message, /not valid YAML: Map keys must be unique/);
  const broken = await loadError(
    { config: FILE },
    {},
    memoryReader({ [FILE]: "gate: {request_deadline: 2s\n" }),
  );
  assert.match(broken.where!, new RegExp(`^${FILE}:\\d+:\\d+$`));
  assert.match(broken.message, /not valid YAML/);
});

test("aliases resolve, and an error inside one is located at the anchored value", async () => {
  const anchored = "admission: &a\n  quiet_window: 5s\nmodels_overrides:\n  m: { admission: *a }\n";
  const ok = await loadDaemonConfig(
    { config: FILE, modelConfigFile: "/m" },
    {},
    memoryReader({ [FILE]: anchored }),
  );
  assert.equal(ok.models_overrides.m!.admission!.quiet_window, 5000);
  const bad = anchored.replace("5s", "5 s");
  const error = await loadError({ config: FILE, modelConfigFile: "/m" }, {}, memoryReader({ [FILE]: bad }));
  assert.deepEqual(
    error.problems.map((problem) => [problem.where, problem.path]),
    [
      [`${FILE}:2:17`, "admission.quiet_window"],
      [`${FILE}:2:17`, "models_overrides.m.admission.quiet_window"],
    ],
  );
});

test("every problem is reported at once, in file order, then those from flags", async () => {
  const text = "rollback:\n  action: remove\nadmission:\n  quiet_window: 2 sec\n";
  const error = await loadError({ config: FILE, grpc: "nohost" }, {}, memoryReader({ [FILE]: text }));
  assert.deepEqual(
    error.problems.map((problem) => [problem.where, problem.path]),
    [
      [`${FILE}:2:11`, "rollback.action"],
      [`${FILE}:4:17`, "admission.quiet_window"],
      ["--grpc", "tf_serving.grpc_address"],
    ],
  );
  assert.match(error.message, /^3 problems in the daemon config$/);
  const text2 = error.describe();
  assert.match(
    text2,
    /- \/etc\/tfs-rollout\/custom.yaml:4:17: admission.quiet_window: "2 sec" is not a duration/,
  );
  assert.match(text2, /hint: write a number of milliseconds/);
  assert.match(text2, /- --grpc: tf_serving.grpc_address: "nohost" is not HOST:PORT/);
});

test("a single problem describes itself as WHERE: PATH: MESSAGE + hint", async () => {
  const error = await loadError(
    { config: FILE, modelConfigFile: "/m" },
    {},
    memoryReader({ [FILE]: "rollback:\n  action: remove\n" }),
  );
  assert.equal(
    error.describe(),
    `${FILE}:2:11: rollback.action: "remove" is not one of rename, delete\n` +
      "  hint: rename (keep the directory under a name TF Serving ignores) or delete, e.g. action: rename",
  );
  assert.equal(exitCodeOf(error), ExitCode.usage);
});

test("flag values are validated like the keys they override and the flag is named", async () => {
  const cases: [Parameters<typeof loadDaemonConfig>[0], string, string, RegExp][] = [
    [{ grpc: "127.0.0.1" }, "--grpc", "tf_serving.grpc_address", /is not HOST:PORT/],
    [{ grpc: "host:0" }, "--grpc", "tf_serving.grpc_address", /is not HOST:PORT/],
    [{ rest: "127.0.0.1:8501" }, "--rest", "tf_serving.rest_url", /is not an http/],
    [{ models: "a,,b" }, "--models", "models[1]", /must not be empty/],
  ];
  for (const [flags, flag, path, message] of cases) {
    const error = await loadError({ modelConfigFile: "/m", ...flags }, {}, memoryReader());
    assert.equal(error.problems.length, 1, JSON.stringify(flags));
    assert.equal(error.problems[0]!.where, flag);
    assert.equal(error.problems[0]!.path, path);
    assert.match(error.problems[0]!.message, message);
  }
  const ipv6 = await loadDaemonConfig({ modelConfigFile: "/m", grpc: "[::1]:8500" }, {}, memoryReader());
  assert.equal(ipv6.tf_serving.grpc_address, "[::1]:8500");
});

test("a flag does not paper over a malformed section in the file", async () => {
  const error = await loadError(
    { config: FILE, modelConfigFile: "/m", grpc: "h:1" },
    {},
    memoryReader({ [FILE]: "tf_serving: 8500\n" }),
  );
  assert.equal(error.problems[0]!.path, "tf_serving");
  assert.equal(error.problems[0]!.where, `${FILE}:1:13`);
  assert.match(error.problems[0]!.message, /expected a map of keys, got 8500/);
});

test("loaded configs share no objects with the defaults or each other", async () => {
  const first = await loadDaemonConfig({ modelConfigFile: "/m" }, {}, memoryReader());
  first.tf_serving.retry.attempts = 99;
  first.gate.requests.push({ name: "x", inputs: {}, tolerance: { absolute: 0, relative: 0 } });
  first.admission.quiet_window = 1;
  const second = await loadDaemonConfig({ modelConfigFile: "/m" }, {}, memoryReader());
  assert.equal(second.tf_serving.retry.attempts, 5);
  assert.deepEqual(second.gate.requests, []);
  assert.equal(second.admission.quiet_window, 2000);
});
