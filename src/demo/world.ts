/**
 * The demo's temporary world: a model root with half_plus_two version 1, TF Serving's models.config (with comments,
 * to show they survive the daemon's edits), the daemon's config (short quiet window, frequent rescans) and its
 * state directory, all under one temp dir.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MODEL, publishAtomically } from "./model.js";

export const MODELS_CONFIG_COMMENT =
  "# TF Serving's model config for the tfs-rollout demo: tfs-rollout edits it in place.";

export interface DemoWorld {
  root: string;
  base: string;
  modelsConfig: string;
  daemonConfig: string;
  stateDir: string;
  /** Where versions are built before the slow copy (outside base_path). */
  staging: string;
}

export const QUIET_WINDOW_MS = 500;

export function createWorld(): DemoWorld {
  const root = mkdtempSync(join(tmpdir(), "tfs-rollout-demo-"));
  const base = join(root, "models", MODEL);
  mkdirSync(base, { recursive: true });
  publishAtomically(base, "1");
  const modelsConfig = join(root, "models.config");
  writeFileSync(
    modelsConfig,
    [
      MODELS_CONFIG_COMMENT,
      "# This comment, and the one on the model's name, survive every edit.",
      "model_config_list {",
      "  config {",
      `    name: "${MODEL}"  # TF Serving's test model: y = 0.5 * x + 2`,
      `    base_path: "${base}"`,
      '    model_platform: "tensorflow"',
      "  }",
      "}",
      "",
    ].join("\n"),
  );
  const daemonConfig = join(root, "tfs-rollout.yaml");
  writeFileSync(
    daemonConfig,
    [
      "# Demo settings: short waits so the whole story fits in seconds (see config/tfs-rollout.example.yaml).",
      "admission:",
      `  quiet_window: ${QUIET_WINDOW_MS}ms`,
      "watch:",
      '  rescan_cron: "*/2 * * * * *"',
      "rollout:",
      "  load_deadline: 20s",
      "tf_serving:",
      "  call_deadline: 5s",
      "  retry: { attempts: 3, initial_backoff: 100ms, max_backoff: 1s, overall_deadline: 5s }",
      "http:",
      "  listen: 127.0.0.1:0 # any free port: several demos (and a real daemon) may run side by side",
      "",
    ].join("\n"),
  );
  const staging = join(root, "staging");
  mkdirSync(staging);
  return { root, base, modelsConfig, daemonConfig, stateDir: join(root, "state"), staging };
}

/** The flags every tfs-rollout command of the demo gets (the daemon, and `status` at the end). */
export function commandFlags(world: DemoWorld, grpcPort: number): string[] {
  return [
    `--config=${world.daemonConfig}`,
    `--model-config-file=${world.modelsConfig}`,
    `--grpc=127.0.0.1:${grpcPort}`,
    `--state-dir=${world.stateDir}`,
  ];
}
