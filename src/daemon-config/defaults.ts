import { DEFAULT_GRPC_ADDRESS, DEFAULT_MAX_RECEIVE_MESSAGE_LENGTH } from "../tfserving/grpc-client.js";
import { DEFAULT_OPS_LISTEN } from "../ops/listen-address.js";
import type { DaemonConfig } from "./types.js";

/** Read when it exists and no --config is given; a missing default file is not an error. */
export const DEFAULT_CONFIG_FILE = "/etc/tfs-rollout/config.yaml";
export const DEFAULT_STATE_DIR = "/var/lib/tfs-rollout";

/**
 * The values used for every key neither the file nor a flag sets. They are the safe ones: every gate runs,
 * breaking signature changes fail, rejected versions are renamed rather than deleted.
 */
export const DEFAULTS = {
  tf_serving: {
    grpc_address: DEFAULT_GRPC_ADDRESS,
    call_deadline: 30_000,
    reload_deadline: 360_000,
    max_receive_message_size: DEFAULT_MAX_RECEIVE_MESSAGE_LENGTH,
    retry: { attempts: 5, initial_backoff: 1000, max_backoff: 120_000, overall_deadline: 60_000 },
  },
  watch: {
    use_polling: false,
    poll_interval: 1000,
    rescan_cron: "*/30 * * * * *",
    resync_cron: "0 */30 * * * *",
  },
  admission: { quiet_window: 2000, incomplete_deadline: 1_800_000 },
  rollout: { load_deadline: 600_000, max_parallel_models: 4, reload_coalesce_window: 500 },
  gate: {
    request_deadline: 10_000,
    signature_name: "serving_default",
    allow_breaking_signature: false,
    requests: [],
    golden_files: [],
    // Cheap by default: warmup replay (at most 100 records) runs; the stable diff and the latency budget run
    // only when their section is configured.
    warmup_replay: { enabled: true, max_records: 100 },
    stable_diff: { enabled: false, requests: 20 },
    latency: { enabled: false, requests: 20, floor: 5 },
  },
  rollback: { action: "rename" },
  promotion: { timezone: "UTC", windows: [], freezes: [] },
  approval: { required: false, on_timeout: "reject" },
  retention: { enabled: false, keep_promoted: 3, keep_rejected_for: 7 * 86_400_000, cron: "0 3 * * *" },
  bake: { period: 600_000, probe_cron: "*/30 * * * * *", keep_previous: 1 },
  logging: { level: "info", pretty: false },
  http: { listen: DEFAULT_OPS_LISTEN },
  notifications: { webhooks: [] },
  coordination: {
    backend: "local",
    etcd: { endpoints: [], prefix: "/tfs-rollout/", lease_ttl: 10_000, dial_timeout: 5000 },
    fleet: { max_loading: 1, policy: "all" },
  },
  models_overrides: {},
} as const satisfies Omit<
  DaemonConfig,
  "model_config_file" | "state_dir" | "once" | "config_file" | "gate" | "models"
> & { gate: Omit<DaemonConfig["gate"], "use_rest"> };

export const DEFAULT_TOLERANCE = { absolute: 1e-6, relative: 1e-6 } as const;

/** Each notifications.webhooks[] entry's timeout (per attempt, ms) and retries when the file leaves them out. */
export const DEFAULT_WEBHOOK = { timeout: 5000, retries: 3 } as const;

/**
 * systemd's StateDirectory= passes $STATE_DIRECTORY, a colon-separated list when the unit names several
 * directories: the first one is ours.
 */
export function defaultStateDir(env: NodeJS.ProcessEnv): string {
  const first = env.STATE_DIRECTORY?.split(":")[0];
  return first ? first : DEFAULT_STATE_DIR;
}
