import assert from "node:assert/strict";
import { test } from "node:test";
import { Command } from "commander";
import { addDaemonConfigOptions, daemonConfigFlags, FLAG_KEYS } from "../src/daemon-config/flags.js";
import { loadDaemonConfig } from "../src/daemon-config/load.js";
import type { DaemonConfigError } from "../src/daemon-config/problems.js";
import { memoryReader } from "./helpers/daemon-config-reader.js";

function parse(argv: string[], options: { once?: boolean } = {}) {
  const command = addDaemonConfigOptions(new Command("cmd"), options)
    .exitOverride()
    .configureOutput({ writeErr: () => {}, writeOut: () => {} });
  command.parse(argv, { from: "user" });
  return daemonConfigFlags(command.opts());
}

test("the shared flags parse into DaemonConfigFlags", () => {
  assert.deepEqual(
    parse(
      [
        "--config",
        "c.yaml",
        "--model-config-file",
        "/models/models.config",
        "--grpc",
        "h:1",
        "--rest",
        "http://h:2",
        "--state-dir",
        "/s",
        "--models",
        "a,b",
        "--pretty",
        "--once",
      ],
      { once: true },
    ),
    {
      config: "c.yaml",
      modelConfigFile: "/models/models.config",
      grpc: "h:1",
      rest: "http://h:2",
      stateDir: "/s",
      models: "a,b",
      pretty: true,
      once: true,
    },
  );
  assert.deepEqual(parse([]), {}, "nothing given: nothing overridden");
});

test("--once exists only where asked for (the daemon)", () => {
  assert.throws(() => parse(["--once"]), { code: "commander.unknownOption" });
  assert.deepEqual(parse(["--once"], { once: true }), { once: true });
});

test("every overriding flag is on the command and documents the key it overrides", () => {
  const command = addDaemonConfigOptions(new Command("cmd"), { once: true });
  const described = new Map(command.options.map((option) => [option.long, option.description]));
  for (const { flag, key } of FLAG_KEYS)
    assert.match(described.get(flag) ?? "", new RegExp(`overrides ${key.join("\\.")}\\b`), flag);
  assert.match(described.get("--config") ?? "", /\/etc\/tfs-rollout\/config\.yaml/);
});

test("--http is the daemon's only (like --once) and overrides http.listen; off disables the server", async () => {
  assert.throws(() => parse(["--http", "0.0.0.0:9464"]), { code: "commander.unknownOption" });
  const flags = parse(["--http", "0.0.0.0:9464", "--model-config-file", "/m.config"], { once: true });
  assert.equal(flags.http, "0.0.0.0:9464");
  const file = "/cfg/d.yaml";
  const reader = memoryReader({ [file]: "http:\n  listen: 127.0.0.1:1234\n" });
  const config = await loadDaemonConfig({ ...flags, config: file }, {}, reader);
  assert.equal(config.http.listen, "0.0.0.0:9464", "the flag beats the file");
  const off = await loadDaemonConfig(
    parse(["--http", "off", "--model-config-file", "/m"], { once: true }),
    {},
    reader,
  );
  assert.equal(off.http.listen, null);
  await assert.rejects(
    loadDaemonConfig(parse(["--http", "9464", "--model-config-file", "/m"], { once: true }), {}, reader),
    (error: DaemonConfigError) =>
      error.problems[0]?.where === "--http" &&
      error.problems[0].message === '"9464" has no port' &&
      /listen: 127\.0\.0\.1:9464/.test(error.problems[0].hint ?? ""),
  );
});

test("flags from a command line flow through the loader", async () => {
  const flags = parse(["--model-config-file", "rel/models.config", "--models", "a", "--grpc", "[::1]:8500"]);
  const config = await loadDaemonConfig(flags, {}, memoryReader({}, "/home/op"));
  assert.equal(config.model_config_file, "/home/op/rel/models.config");
  assert.deepEqual(config.models, ["a"]);
  assert.equal(config.tf_serving.grpc_address, "[::1]:8500");
});
