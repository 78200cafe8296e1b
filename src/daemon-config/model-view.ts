import { mergeGate } from "./gate-normalize.js";
import type { DaemonConfig, ModelConfigView, ModelOverrides } from "./types.js";

/**
 * What one model runs with: the global admission, gate, rollback, watch and rollout settings with the model's
 * `models_overrides` entry merged in key by key (an overriding list, such as gate.requests, replaces the global
 * one). Every model-level decision of the daemon reads this view, never the global sections directly.
 */
export function configForModel(config: DaemonConfig, name: string): ModelConfigView {
  const overrides: ModelOverrides = config.models_overrides[name] ?? {};
  // A deep copy: callers may keep or adjust their view without touching the shared config.
  return structuredClone({
    name,
    watch: {
      use_polling: config.watch.use_polling,
      poll_interval: config.watch.poll_interval,
      ...overrides.watch,
    },
    admission: { ...config.admission, ...overrides.admission },
    rollout: { load_deadline: config.rollout.load_deadline, ...overrides.rollout },
    gate: mergeGate(config.gate, overrides.gate),
    rollback: { ...config.rollback, ...overrides.rollback },
    bake: { ...config.bake, ...overrides.bake },
    promotion: { ...config.promotion, ...overrides.promotion },
    approval: { ...config.approval, ...overrides.approval },
    retention: { ...config.retention, ...overrides.retention },
  });
}
