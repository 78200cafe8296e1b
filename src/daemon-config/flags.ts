import type { Command } from "commander";

/**
 * The command-line flags shared by `tfs-rollout daemon` and every operator command (issue 6), as commander
 * returns them from `command.opts()`. Values stay raw strings here: the loader validates them with the same
 * rules as the YAML keys they override, and names the flag in its errors.
 */
export interface DaemonConfigFlags {
  config?: string;
  modelConfigFile?: string;
  grpc?: string;
  rest?: string;
  stateDir?: string;
  models?: string;
  once?: boolean;
  pretty?: boolean;
  /** The daemon only: HOST:PORT of the ops HTTP server, or "off". */
  http?: string;
}

/** Each overriding flag and the YAML key it replaces. `path` values are resolved against the working directory. */
export const FLAG_KEYS = [
  { option: "modelConfigFile", flag: "--model-config-file", key: ["model_config_file"], kind: "path" },
  { option: "grpc", flag: "--grpc", key: ["tf_serving", "grpc_address"], kind: "string" },
  { option: "rest", flag: "--rest", key: ["tf_serving", "rest_url"], kind: "string" },
  { option: "stateDir", flag: "--state-dir", key: ["state_dir"], kind: "path" },
  { option: "models", flag: "--models", key: ["models"], kind: "list" },
  { option: "pretty", flag: "--pretty", key: ["logging", "pretty"], kind: "switch" },
  { option: "http", flag: "--http", key: ["http", "listen"], kind: "string" },
] as const satisfies readonly {
  option: keyof DaemonConfigFlags;
  flag: string;
  key: readonly string[];
  kind: "path" | "string" | "list" | "switch";
}[];

/**
 * Adds the shared flags to a command. `once: true` adds `--once` too (the daemon only: one reconcile pass, then
 * exit with a code saying whether everything converged) and `--http` (the ops server's listen address).
 */
export function addDaemonConfigOptions(command: Command, options: { once?: boolean } = {}): Command {
  command
    .option("--config <file>", "daemon config YAML (default: /etc/tfs-rollout/config.yaml when it exists)")
    .option("--model-config-file <path>", "TF Serving's models.config (overrides model_config_file)")
    .option(
      "--grpc <host:port>",
      "TF Serving's gRPC address (overrides tf_serving.grpc_address; default 127.0.0.1:8500)",
    )
    .option("--rest <url>", "TF Serving's REST URL (overrides tf_serving.rest_url)")
    .option(
      "--state-dir <dir>",
      "journal and state directory (overrides state_dir; default $STATE_DIRECTORY, else /var/lib/tfs-rollout)",
    )
    .option(
      "--models <names>",
      "comma-separated models to manage (overrides models; default: all in models.config)",
    )
    .option("--pretty", "human-readable logs instead of JSON (overrides logging.pretty)");
  if (options.once)
    command.option("--once", "one reconcile pass, then exit (exit code 0 only when all converged)");
  if (options.once)
    command.option(
      "--http <host:port>",
      "listen address of /livez, /readyz and /metrics, or off (overrides http.listen; default 127.0.0.1:9464)",
    );
  return command;
}

/** Picks the shared flags out of `command.opts()`. */
export function daemonConfigFlags(opts: Record<string, unknown>): DaemonConfigFlags {
  const flags: DaemonConfigFlags = {};
  for (const name of ["config", "modelConfigFile", "grpc", "rest", "stateDir", "models", "http"] as const) {
    if (typeof opts[name] === "string") flags[name] = opts[name];
  }
  if (opts.once === true) flags.once = true;
  if (opts.pretty === true) flags.pretty = true;
  return flags;
}
