import assert from "node:assert/strict";
import { test } from "node:test";
import { normalizeDaemonConfig } from "../src/daemon-config/normalize.js";
import { tfServingClient } from "../src/engine/tfserving-client.js";
import { UnreachableError } from "../src/errors.js";

test("the client follows the daemon config: its address, and its retry budget when nothing answers", async () => {
  const config = normalizeDaemonConfig(
    {
      model_config_file: "/m",
      tf_serving: {
        grpc_address: "127.0.0.1:1",
        call_deadline: 500,
        retry: { attempts: 2, initial_backoff: 10, max_backoff: 20, overall_deadline: 1000 },
      },
    } as never,
    { baseDir: "/", env: {}, once: false, configFile: null },
  );
  const client = tfServingClient(config.tf_serving);
  try {
    const error = await client.getModelStatus("m").catch((e: unknown) => e);
    assert.ok(error instanceof UnreachableError, String(error));
    assert.match(error.message + (error.where ?? ""), /127\.0\.0\.1:1/);
  } finally {
    client.close();
  }
});
