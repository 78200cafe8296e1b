/**
 * The deep gate sections of issue 7 (golden files, warmup replay, stable diff, latency budget) from the file's
 * form to the normalised one. A stable_diff or latency section that is present runs unless it says
 * `enabled: false`; golden files are made absolute against the config file's directory.
 */
import { DEFAULT_TOLERANCE, DEFAULTS } from "./defaults.js";
import type { DaemonConfigFile } from "./schema.js";
import type { GateConfig, GateOverrides } from "./types.js";

type FileGate = NonNullable<DaemonConfigFile["gate"]>;
type DeepKeys = "golden_files" | "golden_tolerance" | "warmup_replay" | "stable_diff" | "latency";

/** The global deep sections: defaults < file. */
export function normalizeDeepGate(
  gate: FileGate | undefined,
  path: (value: string) => string,
): Pick<GateConfig, DeepKeys> {
  const out: Pick<GateConfig, DeepKeys> = {
    golden_files: (gate?.golden_files ?? []).map(path),
    warmup_replay: { ...DEFAULTS.gate.warmup_replay, ...gate?.warmup_replay },
    stable_diff: { ...DEFAULTS.gate.stable_diff, ...presentEnables(gate?.stable_diff) },
    latency: { ...DEFAULTS.gate.latency, ...presentEnables(gate?.latency) },
  };
  if (gate?.golden_tolerance) out.golden_tolerance = { ...DEFAULT_TOLERANCE, ...gate.golden_tolerance };
  return out;
}

/** A model's deep overrides: only the keys it sets (merged over the global ones by configForModel). */
export function deepGateOverrides(
  gate: FileGate,
  path: (value: string) => string,
): Pick<GateOverrides, DeepKeys> {
  const out: Pick<GateOverrides, DeepKeys> = {};
  if (gate.golden_files) out.golden_files = gate.golden_files.map(path);
  if (gate.golden_tolerance) out.golden_tolerance = { ...DEFAULT_TOLERANCE, ...gate.golden_tolerance };
  if (gate.warmup_replay) out.warmup_replay = { ...gate.warmup_replay };
  if (gate.stable_diff) out.stable_diff = presentEnables(gate.stable_diff);
  if (gate.latency) out.latency = presentEnables(gate.latency);
  return out;
}

/** The model's gate: the global one with the override merged in, nested sections key by key. */
export function mergeGate(global: GateConfig, override: GateOverrides | undefined): GateConfig {
  if (override === undefined) return { ...global };
  return {
    ...global,
    ...override,
    warmup_replay: { ...global.warmup_replay, ...override.warmup_replay },
    stable_diff: { ...global.stable_diff, ...override.stable_diff },
    latency: { ...global.latency, ...override.latency },
  };
}

function presentEnables<T extends { enabled?: boolean }>(section: T | undefined): T | undefined {
  return section === undefined ? undefined : { ...section, enabled: section.enabled ?? true };
}
