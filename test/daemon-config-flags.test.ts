import assert from "node:assert/strict";
import { test } from "node:test";
import { Command } from "commander";
import { addDaemonConfigOptions, daemonConfigFlags, FLAG_KEYS } from "../src/daemon-config/flags.js";
import { loadDaemonConfig } from "../src/daemon-config/load.js";
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
  const command = addDaemonConfigOptions(new Command("cmd"));
  const described = new Map(command.options.map((option) => [option.long, option.description]));
  for (const { flag, key } of FLAG_KEYS)
    assert.match(described.get(flag) ?? "", new RegExp(`overrides ${key.join("\\.")}\\b`), flag);
  assert.match(described.get("--config") ?? "", /\/etc\/tfs-rollout\/config\.yaml/);
});

test("flags from a command line flow through the loader", async () => {
  const flags = parse(["--model-config-file", "rel/models.config", "--models", "a", "--grpc", "[::1]:8500"]);
  const config = await loadDaemonConfig(flags, {}, memoryReader({}, "/home/op"));
  assert.equal(config.model_config_file, "/home/op/rel/models.config");
  assert.deepEqual(config.models, ["a"]);
  assert.equal(config.tf_serving.grpc_address, "[::1]:8500");
});
