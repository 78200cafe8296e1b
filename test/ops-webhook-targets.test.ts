import assert from "node:assert/strict";
import { test } from "node:test";
import { RolloutError } from "../src/errors.js";
import { resolveWebhookTargets, webhookTargetsFromConfig } from "../src/ops/webhook-targets.js";

test("secrets come from the named environment variables", () => {
  const targets = resolveWebhookTargets(
    [
      { url: "https://hooks.example/a", secretEnv: "HOOK_A", timeoutMs: 2000, retries: 1 },
      { url: "https://hooks.example/b" },
    ],
    { HOOK_A: "alpha" },
  );
  assert.deepEqual(targets, [
    { url: "https://hooks.example/a", secret: "alpha", timeoutMs: 2000, retries: 1 },
    { url: "https://hooks.example/b", timeoutMs: undefined, retries: undefined },
  ]);
});

test("an unset or empty secret variable is a config error naming the entry", () => {
  for (const env of [{}, { HOOK_B: "" }]) {
    assert.throws(
      () => resolveWebhookTargets([{ url: "https://a" }, { url: "https://b", secretEnv: "HOOK_B" }], env),
      (error: unknown) =>
        error instanceof RolloutError &&
        error.where === "notifications.webhooks[1].secret_env" &&
        /HOOK_B .* is not set/.test(error.message) &&
        /set HOOK_B/.test(error.hint ?? ""),
    );
  }
});

test("the daemon config's webhooks map to targets: timeout, retries, events, secret from the named variable", () => {
  assert.deepEqual(
    webhookTargetsFromConfig(
      [
        {
          url: "https://hooks.example/a",
          secret_env: "HOOK_A",
          timeout: 1500,
          retries: 0,
          events: ["promoted"],
        },
        { url: "http://127.0.0.1:9/b", timeout: 5000, retries: 3 },
      ],
      { HOOK_A: "alpha" },
    ),
    [
      { url: "https://hooks.example/a", secret: "alpha", timeoutMs: 1500, retries: 0, events: ["promoted"] },
      { url: "http://127.0.0.1:9/b", timeoutMs: 5000, retries: 3 },
    ],
  );
  assert.throws(
    () => webhookTargetsFromConfig([{ url: "https://a", secret_env: "MISSING", timeout: 1, retries: 0 }], {}),
    (error: unknown) =>
      error instanceof RolloutError && error.where === "notifications.webhooks[0].secret_env",
  );
});
