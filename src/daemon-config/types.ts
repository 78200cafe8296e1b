/**
 * The daemon config after loading: every value present, every duration in milliseconds, every path absolute.
 * Field names are the YAML keys (snake_case), so a key path in an error message, a log line and the code that
 * reads it are spelled the same way.
 */

export interface TlsConfig {
  /** PEM of the CA that signed TF Serving's certificate; system roots when absent. */
  ca_file?: string;
  /** Client certificate and key (both or neither), for servers that require client authentication. */
  cert_file?: string;
  key_file?: string;
  /** Name to verify the server certificate against when it differs from the address's host. */
  server_name_override?: string;
}

export interface RetryConfig {
  /** Calls per idempotent request (status, metadata, predict) before giving up; reloads are never retried. */
  attempts: number;
  initial_backoff: number;
  max_backoff: number;
  /** No retry starts later than this after the first call. */
  overall_deadline: number;
}

export interface TfServingConfig {
  /** HOST:PORT of TF Serving's gRPC port. */
  grpc_address: string;
  /** http(s) URL of TF Serving's REST port, when there is one. */
  rest_url?: string;
  /** Deadline of each status, metadata and predict call (the gate has its own, gate.request_deadline). */
  call_deadline: number;
  /** Deadline of HandleReloadConfigRequest, which blocks until newly added versions load or fail. */
  reload_deadline: number;
  /** Largest reply accepted, bytes. */
  max_receive_message_size: number;
  tls?: TlsConfig;
  retry: RetryConfig;
}

export interface WatchConfig {
  /** Poll instead of inotify, for NFS and FUSE mounts where file-system events never arrive. */
  use_polling: boolean;
  poll_interval: number;
  /** node-cron expression (5 fields, or 6 with seconds first) of the periodic rescan that catches missed events. */
  rescan_cron: string;
}

export interface AdmissionConfig {
  /** How long a version tree must stay unchanged (sizes, mtimes) before it is admitted. */
  quiet_window: number;
  /** File name whose presence in the version directory admits it instead of the quiet window. */
  marker_file?: string;
  /** A version directory still incomplete this long after it appeared is reported (never loaded). */
  incomplete_deadline: number;
}

export interface RolloutConfig {
  /** A candidate not AVAILABLE this long after the reload fails. */
  load_deadline: number;
  /** Models rolled out at the same time. */
  max_parallel_models: number;
  /** Reloads requested by several models within this window are sent as one. */
  reload_coalesce_window: number;
}

export interface GateTolerance {
  absolute: number;
  relative: number;
}

/** An operator-written smoke request (shape only; issue 7 gives it its full meaning). */
export interface GateRequestConfig {
  name: string;
  signature_name?: string;
  /** Input tensors by alias, as TF Serving's REST columnar `inputs` JSON. */
  inputs: Record<string, unknown>;
  /** Expected output tensors by alias, same JSON form; absent means only the default checks apply. */
  expected_outputs?: Record<string, unknown>;
  tolerance: GateTolerance;
}

export interface GateConfig {
  /** Deadline of each smoke request; a slower answer fails the gate. */
  request_deadline: number;
  /** Also send the smoke request over REST (default: when tf_serving.rest_url is set). */
  use_rest: boolean;
  /** Signature the synthesised request is built from. */
  signature_name: string;
  /** Let a candidate whose serving inputs differ from stable's (names, dtypes, ranks) pass the gate. */
  allow_breaking_signature: boolean;
  requests: GateRequestConfig[];
}

export type RollbackAction = "rename" | "delete";

export interface RollbackConfig {
  /** rename: to a dot-name TF Serving ignores inside base_path (nothing lost); delete: remove the directory. */
  action: RollbackAction;
}

export type LogLevel = "trace" | "debug" | "info" | "warn" | "error" | "fatal" | "silent";

export interface LoggingConfig {
  level: LogLevel;
  /** Human-readable lines instead of JSON. */
  pretty: boolean;
}

/** The sections a model may override; each key is merged over the global value (lists are replaced). */
export interface ModelSettings {
  watch: Pick<WatchConfig, "use_polling" | "poll_interval">;
  admission: AdmissionConfig;
  rollout: Pick<RolloutConfig, "load_deadline">;
  gate: GateConfig;
  rollback: RollbackConfig;
}

export type ModelOverrides = { [K in keyof ModelSettings]?: Partial<ModelSettings[K]> };

export interface DaemonConfig {
  tf_serving: TfServingConfig;
  /** TF Serving's models.config: the source of truth for model names and base paths. */
  model_config_file: string;
  /** Journal, verdicts and locks. */
  state_dir: string;
  /** Models to manage; undefined means every model in models.config. */
  models?: string[];
  watch: WatchConfig;
  admission: AdmissionConfig;
  rollout: RolloutConfig;
  gate: GateConfig;
  rollback: RollbackConfig;
  logging: LoggingConfig;
  models_overrides: Record<string, ModelOverrides>;
  /** One reconcile pass, then exit (command line only). */
  once: boolean;
  /** The YAML file this config was read from, or null when only flags and defaults were used. */
  config_file: string | null;
}

/** What one model runs with: the global sections with its overrides merged in. */
export interface ModelConfigView extends ModelSettings {
  name: string;
}
