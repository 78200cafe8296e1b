import { BYTE_SIZE_HINT } from "./byte-size.js";
import { DURATION_HINT } from "./duration.js";

/** How to fix a bad value, by key (per-model overrides share the global key's hint): valid values and an example. */
const HINTS: Record<string, string> = {
  "tf_serving.grpc_address": "give TF Serving's gRPC port as HOST:PORT, e.g. grpc_address: 127.0.0.1:8500",
  "tf_serving.rest_url": "give TF Serving's REST port as a URL, e.g. rest_url: http://127.0.0.1:8501",
  "tf_serving.max_receive_message_size": `${BYTE_SIZE_HINT}; e.g. max_receive_message_size: 64MiB`,
  "tf_serving.tls": "give paths of PEM files, e.g. tls: { ca_file: /etc/tfs-rollout/ca.pem }",
  "tf_serving.retry.attempts": "a whole number >= 1, e.g. attempts: 5",
  model_config_file:
    "the path TF Serving's --model_config_file points at, e.g. model_config_file: /models/models.config",
  state_dir: "a directory the daemon may write, e.g. state_dir: /var/lib/tfs-rollout",
  models:
    "a list of model names from models.config, e.g. models: [resnet, bert]; omit it to manage every model",
  "watch.use_polling": "true or false (YAML 1.2: yes/no/on/off are strings), e.g. use_polling: true",
  "watch.rescan_cron":
    'a node-cron expression, 5 fields or 6 with seconds first, quoted, e.g. rescan_cron: "*/30 * * * * *"',
  "watch.resync_cron":
    'a node-cron expression, 5 fields or 6 with seconds first, quoted, e.g. resync_cron: "0 */30 * * * *"',
  "admission.marker_file":
    "a file name the copy job writes last into the version directory, e.g. marker_file: _SUCCESS",
  "rollout.max_parallel_models": "a whole number >= 1, e.g. max_parallel_models: 4",
  "gate.use_rest": "true or false; true needs tf_serving.rest_url",
  "gate.signature_name": "a signature of the model, e.g. signature_name: serving_default",
  "gate.allow_breaking_signature":
    "true or false (default false: a changed input name, dtype or rank fails the gate)",
  "gate.requests": "a list of { name, inputs: { ALIAS: JSON value }, expected_outputs?, tolerance? }",
  "gate.requests[].name": "a unique name per request, e.g. name: known-cat",
  "gate.requests[].inputs":
    'input tensors as in TF Serving\'s REST "inputs", e.g. inputs: { x: [[1.0, 2.0]] }',
  "gate.requests[].tolerance": "numbers >= 0, e.g. tolerance: { absolute: 1e-6, relative: 1e-4 }",
  "gate.requests[].tolerance.top_k":
    "a whole number >= 1 of top classes compared per row, e.g. tolerance: { top_k: 5, min_top_k_agreement: 0.99 }",
  "gate.requests[].tolerance.min_top_k_agreement":
    "a share between 0 and 1, with top_k, e.g. tolerance: { top_k: 1, min_top_k_agreement: 0.99 }",
  "gate.golden_files":
    "a list of JSON request files or PredictionLog TFRecords, relative to the config file, e.g. golden_files: [golden/cats.json]",
  "gate.golden_tolerance":
    "numbers >= 0, e.g. golden_tolerance: { absolute: 1e-4, relative: 1e-3 } (or top_k)",
  "gate.warmup_replay": "e.g. warmup_replay: { enabled: true, max_records: 100 }",
  "gate.stable_diff":
    "e.g. stable_diff: { max_absolute: 0.01, max_relative: 0.05, min_argmax_agreement: 0.99, requests: 20 }",
  "gate.latency":
    "e.g. latency: { requests: 20, p99_budget: 200ms, max_p99_ratio_vs_stable: 1.5 } (budgets are durations, ratios numbers > 0)",
  "bake.probe_cron":
    'a node-cron expression, 5 fields or 6 with seconds first, quoted, e.g. probe_cron: "*/30 * * * * *"',
  "bake.keep_previous": "a whole number >= 0 of previous versions kept loaded, e.g. keep_previous: 1",
  "rollback.action":
    "rename (keep the directory under a name TF Serving ignores) or delete, e.g. action: rename",
  "logging.level": "one of trace, debug, info, warn, error, fatal, silent, e.g. level: info",
  "logging.pretty": "true or false, e.g. pretty: true",
  "http.listen":
    "HOST:PORT for /livez, /readyz and /metrics, e.g. listen: 127.0.0.1:9464 (0.0.0.0:9464 for Kubernetes probes), or listen: off",
  "notifications.webhooks":
    "a list of { url, secret_env?, timeout?, retries?, events? }, e.g. webhooks: [{ url: https://hooks.example.com/tfs-rollout }]",
  "notifications.webhooks[].url":
    "the receiver's http:// or https:// URL, e.g. url: https://hooks.example.com/tfs",
  "notifications.webhooks[].secret_env":
    "the NAME of an environment variable holding the HMAC key (never the key itself), e.g. secret_env: TFS_ROLLOUT_WEBHOOK_SECRET",
  "notifications.webhooks[].retries":
    "a whole number >= 0 of retries after the first attempt, e.g. retries: 3",
  "notifications.webhooks[].events":
    "a list of candidate_detected, gate_failed, promoted, rolled_back, stuck_past_deadline, approval_waiting; omit it for every event",
  "promotion.timezone": 'an IANA time zone name, e.g. timezone: "Europe/Paris" (default UTC)',
  "promotion.windows":
    'a list of { cron, duration }, e.g. windows: [{ cron: "0 9 * * 1-5", duration: 8h }] (weekdays 09:00-17:00)',
  "promotion.windows[].duration": "a duration with a unit (ms, s, m, h, d), e.g. duration: 8h",
  "promotion.freezes":
    'a list of { cron, duration } or { from, to }, e.g. freezes: [{ from: "2026-12-24T00:00:00Z", to: "2027-01-02T00:00:00Z" }]',
  "promotion.freezes[].duration": "a duration with a unit (ms, s, m, h, d), e.g. duration: 66h",
  "approval.required": "true or false, e.g. required: true (then set approval.timeout too)",
  "approval.timeout": "a duration with a unit (ms, s, m, h, d), e.g. timeout: 24h",
  "approval.on_timeout":
    "reject (the candidate is rolled back like a failed gate) or promote, e.g. on_timeout: reject",
  "retention.enabled": "true or false (default false: nothing is ever deleted), e.g. enabled: true",
  "retention.keep_promoted": "a whole number >= 1 of promoted versions kept on disk, e.g. keep_promoted: 3",
  "retention.keep_rejected_for": "a duration with a unit (ms, s, m, h, d), e.g. keep_rejected_for: 7d",
  "retention.cron":
    'a node-cron expression, 5 fields or 6 with seconds first, quoted, e.g. cron: "0 3 * * *"',
  models_overrides:
    "a map from model name to overrides, e.g. models_overrides: { resnet: { rollback: { action: delete } } }",
};

const DURATION_KEYS = new Set([
  "tf_serving.call_deadline",
  "tf_serving.reload_deadline",
  "tf_serving.retry.initial_backoff",
  "tf_serving.retry.max_backoff",
  "tf_serving.retry.overall_deadline",
  "watch.poll_interval",
  "admission.quiet_window",
  "admission.incomplete_deadline",
  "rollout.load_deadline",
  "rollout.reload_coalesce_window",
  "gate.request_deadline",
  "gate.latency.p50_budget",
  "gate.latency.p99_budget",
  "gate.latency.floor",
  "bake.period",
  "notifications.webhooks[].timeout",
]);

/** The key a path's hint is filed under: overrides map to the global key, list indexes to `[]`. */
export function hintKey(path: readonly PropertyKey[]): string {
  const segments = path[0] === "models_overrides" && path.length > 2 ? path.slice(2) : path;
  let key = "";
  for (const segment of segments)
    key += typeof segment === "number" ? "[]" : key ? `.${String(segment)}` : String(segment);
  return key;
}

export function hintFor(path: readonly PropertyKey[]): string | undefined {
  const key = hintKey(path);
  if (DURATION_KEYS.has(key)) return `${DURATION_HINT}; e.g. ${key.split(".").pop()}: 2s`;
  for (let prefix = key; prefix; prefix = prefix.replace(/(\[\]|\.[^.[\]]*)$/, "")) {
    const hint = HINTS[prefix];
    if (hint) return hint;
    if (!/(\.|\[\])/.test(prefix)) break;
  }
  return undefined;
}
