import type { WebhookConfig } from "../daemon-config/types.js";
import { RolloutError } from "../errors.js";
import type { RolloutEventType } from "./events.js";
import type { WebhookTarget } from "./webhooks.js";

/** One entry of the daemon config's notifications.webhooks[], after duration parsing. */
export interface WebhookConfigEntry {
  url: string;
  /** Name of the environment variable holding the HMAC secret (secrets never live in the config file). */
  secretEnv?: string;
  timeoutMs?: number;
  retries?: number;
  /** Only these events (default: every event). */
  events?: readonly RolloutEventType[];
}

/** The daemon config's notifications.webhooks, secrets resolved from the environment. */
export function webhookTargetsFromConfig(
  hooks: readonly WebhookConfig[],
  env: NodeJS.ProcessEnv,
): WebhookTarget[] {
  return resolveWebhookTargets(
    hooks.map((hook) => ({
      url: hook.url,
      timeoutMs: hook.timeout,
      retries: hook.retries,
      ...(hook.secret_env === undefined ? {} : { secretEnv: hook.secret_env }),
      ...(hook.events === undefined ? {} : { events: hook.events }),
    })),
    env,
  );
}

/** Resolves secrets from the environment; a named variable that is unset or empty is a config error. */
export function resolveWebhookTargets(
  entries: readonly WebhookConfigEntry[],
  env: NodeJS.ProcessEnv,
  where = "notifications.webhooks",
): WebhookTarget[] {
  return entries.map((entry, index) => {
    const target: WebhookTarget = { url: entry.url, timeoutMs: entry.timeoutMs, retries: entry.retries };
    if (entry.events !== undefined) target.events = entry.events;
    if (entry.secretEnv === undefined) return target;
    const secret = env[entry.secretEnv];
    if (secret === undefined || secret === "")
      throw new RolloutError(
        `environment variable ${entry.secretEnv} (webhook secret for ${entry.url}) is not set`,
        {
          where: `${where}[${index}].secret_env`,
          hint: `set ${entry.secretEnv} in the daemon's environment (systemd: EnvironmentFile=; Kubernetes: a Secret via env), or remove secret_env to send unsigned events`,
        },
      );
    return { ...target, secret };
  });
}
