// Command-line flags of the emulator: tensorflow_model_server's names and defaults (facts §1, §3, §4, §6), plus
// emulator-only ones. Accepted as `--flag=value` or `--flag value`; booleans also bare (`--flag`).

export interface EmulatorFlags {
  /** gRPC port (--port, TF default 8500); 0 picks a free port. */
  port: number;
  /** REST port; undefined = REST disabled (flag absent, or TF's own 0 is NOT used for "disabled": see README). */
  restApiPort: number | undefined;
  modelConfigFile: string;
  /** Seconds between re-reads of the config file; 0 = read once at startup (TF default). Fractions allowed. */
  modelConfigFilePollWaitSeconds: number;
  /** Seconds between file-system polls of every base_path (binary default 1); 0 = once; negative = never. */
  fileSystemPollWaitSeconds: number;
  allowVersionLabelsForUnavailableModels: boolean;
  /** Extra load attempts after a failure (TF default 5). */
  maxNumLoadRetries: number;
  /** Wait between load attempts (TF default 60 s). */
  loadRetryIntervalMicros: number;
  /** Threads loading servables (TF --num_load_threads, default 0: loads run one at a time in the manager loop). */
  numLoadThreads: number;
  /** Replay assets.extra/tf_serving_warmup_requests at load (TF default true). */
  enableModelWarmup: boolean;
  /** Meta graph tag set to load (TF --saved_model_tags, default "serve"). */
  savedModelTags: string[];
  /** Emulator only: every load takes this long (ms) before it completes. */
  loadDelayMs: number;
  /** Emulator only: loopback control port; undefined = no control server, 0 = a free port. */
  controlPort: number | undefined;
  /** Emulator only: address the gRPC and REST ports bind. Default loopback (TF itself binds all interfaces); --listen_host=0.0.0.0 for a sidecar. */
  listenHost: string;
}

export class FlagError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "FlagError";
  }
}

type Kind = "int" | "number" | "bool" | "string";
const FLAGS: Record<string, Kind> = {
  port: "int",
  rest_api_port: "int",
  model_config_file: "string",
  model_config_file_poll_wait_seconds: "number",
  file_system_poll_wait_seconds: "number",
  allow_version_labels_for_unavailable_models: "bool",
  max_num_load_retries: "int",
  load_retry_interval_micros: "int",
  num_load_threads: "int",
  enable_model_warmup: "bool",
  saved_model_tags: "string",
  load_delay_ms: "number",
  control_port: "int",
  listen_host: "string",
};

function parseBool(name: string, text: string): boolean {
  if (/^(true|1)$/i.test(text)) return true;
  if (/^(false|0)$/i.test(text)) return false;
  throw new FlagError(`Illegal value '${text}' specified for flag '${name}': expected true or false`);
}

function parseNumber(name: string, text: string, kind: Kind): number {
  const value = Number(text.trim());
  if (text.trim() === "" || !Number.isFinite(value) || (kind === "int" && !Number.isInteger(value)))
    throw new FlagError(
      `Illegal value '${text}' specified for flag '${name}': expected ${kind === "int" ? "an integer" : "a number"}`,
    );
  return value;
}

function portFlag(name: string, value: number | undefined): number | undefined {
  if (value !== undefined && (value < 0 || value > 65535))
    throw new FlagError(`--${name}=${value} is not a port number (0-65535; 0 picks a free port)`);
  return value;
}

export function parseFlags(argv: readonly string[]): EmulatorFlags {
  const values = new Map<string, string | boolean>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? "";
    const match = /^--?([A-Za-z0-9_]+)(?:=(.*))?$/s.exec(arg);
    if (!match?.[1]) throw new FlagError(`Unexpected argument '${arg}': flags look like --name=value`);
    const name = match[1];
    const kind = FLAGS[name];
    if (!kind)
      throw new FlagError(`Unknown command line flag '${name}' (known: ${Object.keys(FLAGS).join(", ")})`);
    let text = match[2];
    if (text === undefined) {
      const next = argv[i + 1];
      if (kind === "bool") {
        if (next !== undefined && /^(true|false)$/i.test(next)) {
          text = next;
          i++;
        } else {
          values.set(name, true);
          continue;
        }
      } else {
        if (next === undefined) throw new FlagError(`Missing value for flag '--${name}'`);
        text = next;
        i++;
      }
    }
    values.set(name, kind === "bool" ? parseBool(name, text) : text);
  }
  const num = (name: string, fallback: number): number => {
    const v = values.get(name);
    return v === undefined ? fallback : parseNumber(name, String(v), FLAGS[name] ?? "number");
  };
  const optionalNum = (name: string): number | undefined => (values.has(name) ? num(name, 0) : undefined);
  const bool = (name: string, fallback: boolean): boolean => {
    const v = values.get(name);
    return v === undefined ? fallback : v === true || v === false ? v : parseBool(name, v);
  };
  const modelConfigFile = values.get("model_config_file");
  if (typeof modelConfigFile !== "string" || modelConfigFile === "")
    throw new FlagError(
      "--model_config_file is required (the emulator serves models only from a config file)",
    );
  const retries = num("max_num_load_retries", 5);
  if (retries < 0) throw new FlagError(`--max_num_load_retries=${retries} must be >= 0`);
  const interval = num("load_retry_interval_micros", 60_000_000);
  if (interval < 0) throw new FlagError(`--load_retry_interval_micros=${interval} must be >= 0`);
  const loadThreads = num("num_load_threads", 0);
  if (loadThreads < 0) throw new FlagError(`--num_load_threads=${loadThreads} must be >= 0`);
  const tags = String(values.get("saved_model_tags") ?? "serve");
  return {
    port: portFlag("port", num("port", 8500)) ?? 8500,
    restApiPort: portFlag("rest_api_port", optionalNum("rest_api_port")),
    modelConfigFile,
    modelConfigFilePollWaitSeconds: num("model_config_file_poll_wait_seconds", 0),
    fileSystemPollWaitSeconds: num("file_system_poll_wait_seconds", 1),
    allowVersionLabelsForUnavailableModels: bool("allow_version_labels_for_unavailable_models", false),
    maxNumLoadRetries: retries,
    loadRetryIntervalMicros: interval,
    numLoadThreads: loadThreads,
    enableModelWarmup: bool("enable_model_warmup", true),
    savedModelTags: tags.split(",").filter((t) => t !== ""),
    loadDelayMs: Math.max(0, num("load_delay_ms", 0)),
    controlPort: portFlag("control_port", optionalNum("control_port")),
    listenHost: String(values.get("listen_host") ?? "127.0.0.1"),
  };
}
