import assert from "node:assert/strict";
import { test } from "node:test";
import { FlagError, parseFlags } from "../src/emulator/flags.js";

const CONFIG = "--model_config_file=/etc/models.config";

test("TF Serving's defaults (facts §3, §4, §6): port 8500, fs poll 1 s, 5 retries 60 s apart, warmup on, labels strict", () => {
  const flags = parseFlags([CONFIG]);
  assert.equal(flags.port, 8500);
  assert.equal(flags.restApiPort, undefined);
  assert.equal(flags.controlPort, undefined);
  assert.equal(flags.fileSystemPollWaitSeconds, 1);
  assert.equal(flags.modelConfigFilePollWaitSeconds, 0);
  assert.equal(flags.maxNumLoadRetries, 5);
  assert.equal(flags.loadRetryIntervalMicros, 60_000_000);
  assert.equal(flags.enableModelWarmup, true);
  assert.equal(flags.allowVersionLabelsForUnavailableModels, false);
  assert.deepEqual(flags.savedModelTags, ["serve"]);
  assert.equal(flags.listenHost, "127.0.0.1");
  assert.equal(flags.numLoadThreads, 0, "TF's default: loads run one at a time in the manager loop");
});

test("flags accept --flag=value, --flag value, bare booleans and fractions of a second", () => {
  const flags = parseFlags([
    "--model_config_file",
    "/m.config",
    "--port=0",
    "--rest_api_port",
    "0",
    "--file_system_poll_wait_seconds=0.05",
    "--model_config_file_poll_wait_seconds",
    "0.5",
    "--allow_version_labels_for_unavailable_models",
    "--enable_model_warmup=false",
    "--max_num_load_retries=0",
    "--load_retry_interval_micros",
    "1000",
    "--control_port=0",
    "--load_delay_ms=20",
    "--num_load_threads=4",
  ]);
  assert.equal(flags.modelConfigFile, "/m.config");
  assert.equal(flags.port, 0);
  assert.equal(flags.restApiPort, 0);
  assert.equal(flags.controlPort, 0);
  assert.equal(flags.fileSystemPollWaitSeconds, 0.05);
  assert.equal(flags.modelConfigFilePollWaitSeconds, 0.5);
  assert.equal(flags.allowVersionLabelsForUnavailableModels, true);
  assert.equal(flags.enableModelWarmup, false);
  assert.equal(flags.maxNumLoadRetries, 0);
  assert.equal(flags.loadRetryIntervalMicros, 1000);
  assert.equal(flags.loadDelayMs, 20);
  assert.equal(flags.numLoadThreads, 4);
});

test("a bare boolean followed by true/false takes it as its value", () => {
  assert.equal(parseFlags([CONFIG, "--enable_model_warmup", "false"]).enableModelWarmup, false);
});

test("bad flags are refused with what and how", () => {
  assert.throws(() => parseFlags([CONFIG, "--prot=1"]), /Unknown command line flag 'prot'/);
  assert.throws(() => parseFlags([CONFIG, "--port=abc"]), /Illegal value 'abc' specified for flag 'port'/);
  assert.throws(() => parseFlags([CONFIG, "--port=70000"]), /not a port number/);
  assert.throws(() => parseFlags([CONFIG, "--max_num_load_retries=1.5"]), /expected an integer/);
  assert.throws(() => parseFlags([CONFIG, "--enable_model_warmup=maybe"]), /expected true or false/);
  assert.throws(() => parseFlags([CONFIG, "stray"]), /Unexpected argument 'stray'/);
  assert.throws(() => parseFlags([CONFIG, "--num_load_threads=-1"]), /--num_load_threads=-1 must be >= 0/);
  assert.throws(() => parseFlags([CONFIG, "--port"]), /Missing value for flag '--port'/);
  assert.throws(
    () => parseFlags([]),
    (e: unknown) => e instanceof FlagError && /--model_config_file is required/.test(e.message),
  );
});
