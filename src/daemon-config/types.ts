/**
 * The daemon config after loading: every value present, every duration in milliseconds, every path absolute.
 * Field names are the YAML keys (snake_case), so a key path in an error message, a log line and the code that
 * reads it are spelled the same way.
 */
import type { RolloutEventType } from "../ops/events.js";

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
  resync_cron: string;
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
  /** Compare floating-point outputs by the top-k class indices of each row instead of elementwise. */
  top_k?: number;
  /** Share (0..1) of rows whose top-k index sets must agree (default 1: every row). */
  min_top_k_agreement?: number;
}

export interface WarmupReplayConfig {
  /** Replay the candidate's assets.extra/tf_serving_warmup_requests predict records as smoke requests. */
  enabled: boolean;
  max_records: number;
}

/** Candidate vs stable over the same requests; an absent bound is measured and reported only. */
export interface StableDiffConfig {
  enabled: boolean;
  max_absolute?: number;
  max_relative?: number;
  /** Share (0..1) of rows of classifier outputs whose argmax must agree. */
  min_argmax_agreement?: number;
  /** Requests sent to stable at most. */
  requests: number;
}

/** p50/p99 over `requests` Predicts to the candidate (interleaved with stable's), in ms. */
export interface LatencyConfig {
  enabled: boolean;
  requests: number;
  p50_budget?: number;
  p99_budget?: number;
  max_p50_ratio_vs_stable?: number;
  max_p99_ratio_vs_stable?: number;
  /** Stable's percentiles count as at least this much in the ratios (sub-millisecond jitter never fails). */
  floor: number;
}

/** After a verified promotion (issue 7 "bake period"). */
export interface BakeConfig {
  /** How long `stable` is probed after its promotion; 0: no bake period. */
  period: number;
  /** node-cron expression of the health probe during the bake period. */
  probe_cron: string;
  /** Previous versions kept loaded after the bake period (instant rollback targets); 0 unloads them. */
  keep_previous: number;
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
  /** Golden request files (absolute): JSON in the gate.requests form, or TFRecords of PredictionLogs. */
  golden_files: string[];
  /** Tolerance of golden file requests that carry none (default: DEFAULT_TOLERANCE). */
  golden_tolerance?: GateTolerance;
  warmup_replay: WarmupReplayConfig;
  stable_diff: StableDiffConfig;
  latency: LatencyConfig;
}

/** A model's gate override: nested sections merge key by key over the global ones. */
export type GateOverrides = Partial<Omit<GateConfig, "warmup_replay" | "stable_diff" | "latency">> & {
  warmup_replay?: Partial<WarmupReplayConfig>;
  stable_diff?: Partial<StableDiffConfig>;
  latency?: Partial<LatencyConfig>;
};

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

export interface HttpConfig {
  /** HOST:PORT of /livez, /readyz and /metrics (port 0: any free port, logged); null: no HTTP server. */
  listen: string | null;
}

export interface WebhookConfig {
  /** http(s) URL each event is POSTed to. */
  url: string;
  /** Name of the environment variable holding the HMAC key (never the key itself); absent: unsigned events. */
  secret_env?: string;
  /** Per attempt, ms. */
  timeout: number;
  /** Retries after the first attempt. */
  retries: number;
  /** Only these event types (absent: every event). */
  events?: RolloutEventType[];
}

export interface NotificationsConfig {
  webhooks: WebhookConfig[];
}

/** A recurring window: open from each cron occurrence for `duration` ms. */
export interface CronSpanConfig {
  cron: string;
  duration: number;
}

/** A freeze: recurring, or one-off between two ISO 8601 times with offset. */
export type FreezeConfig = CronSpanConfig | { from: string; to: string };

export interface PromotionConfig {
  /** IANA time zone the window and freeze crons are read in. */
  timezone: string;
  /** A candidate that passed its gates is promoted only inside one of these; empty means any time. */
  windows: CronSpanConfig[];
  /** Never promoted inside one of these (a freeze wins over a window). */
  freezes: FreezeConfig[];
}

export interface ApprovalConfig {
  /** A candidate that passed its gates waits, labelled canary, for `tfs-rollout promote`. */
  required: boolean;
  /** How long it waits (required when `required`: never wait forever). */
  timeout?: number;
  on_timeout: "reject" | "promote";
}

export interface RetentionConfig {
  /** Nothing is ever deleted unless this is true. */
  enabled: boolean;
  /** Promoted versions kept on disk (the newest promoted ones; stable and the previous one always). */
  keep_promoted: number;
  /** `.rejected-*` directories are deleted this long after the rejection. */
  keep_rejected_for: number;
  /** When retention runs (node-cron, the daemon's local time). */
  cron: string;
}

/** Fleet mode (docs/fleet.md). */
export interface CoordinationConfig {
  /** local: this daemon alone (today's behaviour); etcd: one of many replicas agreeing through etcd v3. */
  backend: "local" | "etcd";
  /** This replica's id, unique in the fleet; undefined: the host name (a pod's name under Kubernetes). */
  replica?: string;
  etcd: EtcdConfig;
  fleet: FleetConfig;
}

export interface EtcdConfig {
  /** HOST:PORT or http(s)://HOST:PORT of the etcd members (required with backend etcd). */
  endpoints: string[];
  /** Key prefix of this fleet: fleets sharing one etcd never see each other. */
  prefix: string;
  /** Lease TTL, ms: how long a dead replica keeps its membership and load slot. */
  lease_ttl: number;
  dial_timeout: number;
  /** PEM files (absolute): the CA of etcd's certificate, and this client's certificate and key. */
  tls?: { ca?: string; cert?: string; key?: string };
}

export interface FleetConfig {
  /** Replicas loading a model's new version at the same time. */
  max_loading: number;
  /** all: every live ready replica must pass; quorum: `quorum` passes promote. */
  policy: "all" | "quorum";
  quorum?: number;
}

/** The sections a model may override; each key is merged over the global value (lists are replaced). */
export interface ModelSettings {
  watch: Pick<WatchConfig, "use_polling" | "poll_interval">;
  admission: AdmissionConfig;
  rollout: Pick<RolloutConfig, "load_deadline">;
  gate: GateConfig;
  rollback: RollbackConfig;
  bake: BakeConfig;
  promotion: PromotionConfig;
  approval: ApprovalConfig;
  retention: RetentionConfig;
}

export type ModelOverrides = { [K in Exclude<keyof ModelSettings, "gate">]?: Partial<ModelSettings[K]> } & {
  gate?: GateOverrides;
};

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
  bake: BakeConfig;
  promotion: PromotionConfig;
  approval: ApprovalConfig;
  retention: RetentionConfig;
  logging: LoggingConfig;
  http: HttpConfig;
  notifications: NotificationsConfig;
  coordination: CoordinationConfig;
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
