/** Small pure helpers on versions, policies and TF Serving status shared by plan() and the safety rules. */
import type { VersionStatus } from "../tfserving/model-status.js";
import type { ModelPolicy, ObservedModelConfig, ObservedStatus, Version } from "./types.js";

/** Numeric order of int64 decimal strings. */
export function compareVersions(a: Version, b: Version): number {
  const x = BigInt(a);
  const y = BigInt(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

export const sortVersions = (versions: Iterable<Version>): Version[] =>
  [...new Set(versions)].sort(compareVersions);

export const maxVersion = (versions: Iterable<Version>): Version | undefined => sortVersions(versions).at(-1);

export function modelPolicy(specific: Iterable<Version>, labels: Record<string, Version>): ModelPolicy {
  return { specific: sortVersions(specific), labels: sortedLabels(labels) };
}

function sortedLabels(labels: Record<string, Version>): Record<string, Version> {
  return Object.fromEntries(Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

export function samePolicy(a: ModelPolicy, b: ModelPolicy): boolean {
  const x = modelPolicy(a.specific, a.labels);
  const y = modelPolicy(b.specific, b.labels);
  return JSON.stringify(x) === JSON.stringify(y);
}

/** The observed config as a ModelPolicy, when it is a `specific` one. */
export function observedPolicy(config: ObservedModelConfig): ModelPolicy | undefined {
  if (config.policy.kind !== "specific") return undefined;
  return modelPolicy(config.policy.versions, config.labels);
}

/** Per-version status by version, or undefined when TF Serving is unreachable. */
export function statusMap(status: ObservedStatus): Map<Version, VersionStatus> | undefined {
  if (status.kind !== "reachable") return undefined;
  return new Map(status.versions.map((s) => [s.version, s]));
}

export const isAvailable = (statuses: Map<Version, VersionStatus>, version: Version): boolean =>
  statuses.get(version)?.state === "AVAILABLE";

/** END with a non-OK status: a failed load (END with OK is a normal unload). */
export const isFailedEnd = (status: VersionStatus | undefined): boolean =>
  status?.state === "END" && status.error_code !== "OK";

/** `.rejected-<version>-<UTC timestamp>`: TF Serving ignores names that do not parse as an int64. */
export function quarantineName(version: Version, at: number): string {
  const stamp = new Date(at).toISOString().replace(/[-:]/g, "").replace(/\.\d+/, "");
  return `.rejected-${version}-${stamp}`;
}

/** A single child name (no separator, not `.` or `..`): quarantine never reaches outside base_path. */
export const isPlainChildName = (name: string): boolean =>
  name !== "" && name !== "." && name !== ".." && !name.includes("/") && !name.includes("\0");
