import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { loadDaemonConfig, nodeConfigFileReader } from "../src/daemon-config/load.js";
import { allowedKeysAt } from "../src/daemon-config/schema.js";
import { memoryReader } from "./helpers/daemon-config-reader.js";

const EXAMPLE = fileURLToPath(new URL("../config/tfs-rollout.example.yaml", import.meta.url));
const text = readFileSync(EXAMPLE, "utf8");

/** Uncomments the example's commented-out settings (`# key: value`, `#   - key: value`). */
function uncommented(source: string): string {
  return source
    .split("\n")
    .filter((line) => !/^\s*(requests: \[\]|webhooks: \[\]|models_overrides: \{\})$/.test(line))
    .map((line) => line.replace(/^(\s*)# ((?: {2})*(?:- )?[a-z_]+:(?: |$).*)$/, "$1$2"))
    .join("\n");
}

test("the example file parses and equals the defaults, except model_config_file, which has none", async () => {
  const example = await loadDaemonConfig({ config: EXAMPLE }, {}, nodeConfigFileReader("/"));
  const defaults = await loadDaemonConfig({ modelConfigFile: "/models/models.config" }, {}, memoryReader());
  assert.equal(example.model_config_file, "/models/models.config");
  assert.equal(example.config_file, EXAMPLE);
  assert.deepEqual({ ...example, config_file: null }, defaults);
});

test("the example's commented-out settings are valid too once uncommented", async () => {
  const file = "/cfg/example-uncommented.yaml";
  const config = await loadDaemonConfig({ config: file }, {}, memoryReader({ [file]: uncommented(text) }));
  assert.deepEqual(config.models, ["resnet", "bert"]);
  assert.equal(config.tf_serving.rest_url, "http://127.0.0.1:8501");
  assert.deepEqual(Object.keys(config.tf_serving.tls ?? {}).sort(), [
    "ca_file",
    "cert_file",
    "key_file",
    "server_name_override",
  ]);
  assert.equal(config.admission.marker_file, "_SUCCESS");
  assert.equal(config.gate.use_rest, true);
  assert.equal(config.gate.requests[0]?.name, "known-cat");
  assert.deepEqual(Object.keys(config.models_overrides), ["resnet", "bert"]);
  assert.equal(config.models_overrides.bert?.rollback?.action, "delete");
  assert.deepEqual(config.notifications.webhooks, [
    {
      url: "https://hooks.example.com/tfs-rollout",
      secret_env: "TFS_ROLLOUT_WEBHOOK_SECRET",
      timeout: 5000,
      retries: 3,
      events: ["gate_failed", "rolled_back", "stuck_past_deadline"],
    },
  ]);
});

/** Every key path the schema allows, models_overrides entries under a placeholder name. */
function schemaKeys(path: PropertyKey[] = []): string[] {
  return allowedKeysAt(path).flatMap((key) => {
    const next = [...path, key];
    const nested =
      key === "models_overrides"
        ? []
        : key === "requests" || key === "webhooks"
          ? schemaKeys([...next, 0])
          : schemaKeys(next);
    return [key, ...nested];
  });
}

test("the example documents every key of the schema", () => {
  const missing = [...new Set(schemaKeys())].filter(
    (key) => !new RegExp(`(^\\s*#?\\s*(- )?|[{,]\\s*)${key}:`, "m").test(text),
  );
  assert.deepEqual(missing, []);
});
