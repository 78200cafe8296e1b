/**
 * Admission judged in ONE look, for the commands that only look (`status`, `plan`). The daemon's scanner needs to
 * see a tree unchanged for the quiet window across passes; a one-shot command cannot wait, so here a complete tree
 * whose newest file is older than the quiet window (by mtime) counts as complete, and with a marker file the marker
 * decides, as in the daemon. An incomplete tree whose newest file is older than the incomplete deadline counts as
 * overdue. Every judgement says how it was made (`detail`). Reads only: nothing is written or locked.
 */
import { join } from "node:path";
import { checkCompleteness } from "../admission/completeness.js";
import { BasePathError, listVersionDirs } from "../admission/version-dirs.js";
import type { DiskVersion } from "../controller/types.js";
import type { AdmissionConfig } from "../daemon-config/types.js";
import { formatDuration } from "./table.js";

export interface DryVersion extends DiskVersion {
  path: string;
  /** How the admission was judged, or what it waits for. */
  detail?: string;
}

export interface DryAdmission {
  versions: DryVersion[];
  /** Set when the base path cannot be listed. */
  problem?: string;
}

export async function dryAdmission(
  basePath: string,
  rules: AdmissionConfig,
  now: number,
  settled: ReadonlySet<string>,
): Promise<DryAdmission> {
  let listing;
  try {
    listing = await listVersionDirs(basePath);
  } catch (error) {
    if (error instanceof BasePathError) return { versions: [], problem: error.message };
    throw error;
  }
  const versions: DryVersion[] = [];
  for (const dir of listing.versions) {
    const base = { version: dir.version, dirName: dir.dirName, path: dir.path };
    if (settled.has(dir.version)) {
      versions.push({ ...base, admission: "unchecked" });
      continue;
    }
    const verdict = await checkCompleteness(dir.realPath, {
      ...(rules.marker_file === undefined ? {} : { markerFile: rules.marker_file }),
    });
    const newest = Math.max(
      0,
      ...verdict.fingerprint.entries.map((e) =>
        e.mtimeNs === undefined ? 0 : Number(BigInt(e.mtimeNs) / 1_000_000n),
      ),
    );
    const age = Math.max(0, now - newest);
    if (!verdict.complete) {
      const why = verdict.reasons.map((r) => r.message).join("; ");
      const overdue = age >= rules.incomplete_deadline;
      versions.push({
        ...base,
        admission: overdue ? "overdue" : "pending",
        detail: overdue
          ? `incomplete and unchanged for ${formatDuration(age)} (by mtime), past the incomplete deadline: ${why}`
          : `incomplete: ${why}`,
      });
    } else if (rules.marker_file !== undefined) {
      versions.push({
        ...base,
        admission: verdict.markerPresent === true ? "complete" : "pending",
        detail:
          verdict.markerPresent === true
            ? `complete, marker ${rules.marker_file} present`
            : `complete, waiting for marker ${rules.marker_file}`,
      });
    } else if (age >= rules.quiet_window) {
      versions.push({
        ...base,
        admission: "complete",
        detail: `complete, quiet for ${formatDuration(age)} by mtime (window ${formatDuration(rules.quiet_window)})`,
      });
    } else {
      versions.push({
        ...base,
        admission: "pending",
        detail: `complete but written ${formatDuration(age)} ago (quiet window ${formatDuration(rules.quiet_window)})`,
      });
    }
  }
  for (const d of listing.duplicates) {
    versions.push({
      version: d.version,
      dirName: d.loadedByTfServing,
      path: join(listing.basePath, d.loadedByTfServing),
      admission: "duplicate",
      detail: d.message,
    });
  }
  for (const r of listing.refused) {
    versions.push({
      version: r.version,
      dirName: r.dirName,
      path: r.path,
      admission: "refused",
      detail: r.message,
    });
  }
  return { versions };
}
