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
  "rollback.action":
    "rename (keep the directory under a name TF Serving ignores) or delete, e.g. action: rename",
  "logging.level": "one of trace, debug, info, warn, error, fatal, silent, e.g. level: info",
  "logging.pretty": "true or false, e.g. pretty: true",
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
