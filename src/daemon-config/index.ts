/**
 * The daemon config (issue 5 "Start-up and configuration"), shared by `tfs-rollout daemon` and every operator
 * command (issue 6). See load.ts for how the daemon uses it and config/tfs-rollout.example.yaml for every key.
 */
export { addDaemonConfigOptions, daemonConfigFlags, type DaemonConfigFlags } from "./flags.js";
export { type ConfigFileReader, loadDaemonConfig, nodeConfigFileReader } from "./load.js";
export { changedKeys, reloadDaemonConfig, type ReloadResult, RESTART_ONLY_KEYS } from "./reload.js";
export { configForModel } from "./model-view.js";
export { type ConfigProblem, DaemonConfigError } from "./problems.js";
export { DEFAULT_CONFIG_FILE, DEFAULT_STATE_DIR, DEFAULTS, defaultStateDir } from "./defaults.js";
export { formatDuration, parseDuration } from "./duration.js";
export type * from "./types.js";
export { overridesOfUnknownModels, type RuleProblem } from "./rules.js";
