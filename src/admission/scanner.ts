/**
 * One admission pass over a model's base path: list the versions (version-dirs.ts), check each unsettled one for
 * completeness (completeness.ts) and feed its tracker (quiet-window.ts). The scanner keeps one tracker per
 * (model, version, real path) across passes, so it must live as long as the daemon; a directory that disappears
 * loses its tracker (a reappearance starts over).
 *
 * How the daemon uses it, on every reconcile of a model (watch event, cron rescan, re-check timer):
 *   const scan = await scanner.scan(model, basePath, clock(), { settled: versionsWithAFinalVerdict });
 *   watcher.setPending(model, scan.pendingPaths);            // watch copies in progress until admitted
 *   if (scan.recheckInMs !== undefined) watcher.recheckAfter(model, scan.recheckInMs);
 * and reports `scan.listing.duplicates`, `scan.listing.refused` and newly overdue versions. The scan becomes the
 * controller's disk list (engine/observe.ts `diskVersions`); which version is the candidate is decided by the
 * controller's plan() (controller/plan-admission.ts), not here.
 */
import { join } from "node:path";
import { checkCompleteness, type IncompleteReason } from "./completeness.js";
import { AdmissionTracker, type AdmissionRules } from "./quiet-window.js";
import { compareVersions, listVersionDirs, type VersionListing } from "./version-dirs.js";

/**
 * Admission result of one version directory: only "complete" may be loaded; "pending" is still being copied (or
 * waits for its marker file); "overdue" never completed before the deadline; "duplicate" (`5` beside `005`) and
 * "refused" (e.g. a symlink escaping base_path) are reported; "unchecked" versions are settled and not read again.
 */
export type AdmissionKind = "complete" | "pending" | "overdue" | "duplicate" | "refused" | "unchecked";

export interface VersionAdmission {
  version: string;
  admission: AdmissionKind;
  /** Directory path (basePath/dirName); for duplicates, the one TF Serving would load. */
  path: string;
  /** Pending/overdue: what admission waits for or why it gave up; duplicate/refused: the report. */
  detail?: string;
  reasons?: IncompleteReason[];
  /** When the directory was first seen (scanner clock), for pending/overdue/complete. */
  firstSeenAt?: number;
}

export interface ModelScan {
  model: string;
  listing: VersionListing;
  /** Every version on disk, ascending. */
  versions: VersionAdmission[];
  /** Pending version directories, to be watched individually until admitted. */
  pendingPaths: string[];
  /** Versions that became overdue in THIS pass (report once). */
  newlyOverdue: VersionAdmission[];
  /** Smallest re-check delay over the pending versions. */
  recheckInMs?: number;
}

export interface ScanOptions {
  /** Versions whose fate is settled (a final verdict, or at/below stable): listed as `unchecked`, not read. */
  settled?: { has(version: string): boolean };
}

export interface ScannerOptions {
  rules: AdmissionRules;
  /** TF Serving's --saved_model_tags; default ["serve"]. */
  tags?: readonly string[];
}

export class AdmissionScanner {
  private readonly trackers = new Map<string, AdmissionTracker>();
  /** Complete or overdue results, by tracker key: final, so never recomputed. */
  private readonly finals = new Map<string, VersionAdmission>();

  constructor(private readonly options: ScannerOptions) {}

  /** Throws BasePathError when the base path cannot be listed. */
  async scan(model: string, basePath: string, now: number, options: ScanOptions = {}): Promise<ModelScan> {
    const listing = await listVersionDirs(basePath);
    const versions: VersionAdmission[] = [];
    const pendingPaths: string[] = [];
    const newlyOverdue: VersionAdmission[] = [];
    const seen = new Set<string>();
    let recheckInMs: number | undefined;
    const { mode } = this.options.rules;
    const markerFile = mode.kind === "marker" ? mode.markerFile : undefined;
    for (const dir of listing.versions) {
      if (options.settled?.has(dir.version)) {
        versions.push({ version: dir.version, admission: "unchecked", path: dir.path });
        continue;
      }
      const key = `${model}\0${dir.version}\0${dir.realPath}`;
      seen.add(key);
      const settledHere = this.finals.get(key);
      if (settledHere !== undefined) {
        versions.push(settledHere);
        continue;
      }
      let tracker = this.trackers.get(key);
      if (tracker === undefined) {
        tracker = new AdmissionTracker(this.options.rules, now);
        this.trackers.set(key, tracker);
      }
      const verdict = await checkCompleteness(dir.realPath, {
        ...(this.options.tags ? { tags: this.options.tags } : {}),
        ...(markerFile === undefined ? {} : { markerFile }),
      });
      const status = tracker.observe(verdict, now);
      const entry: VersionAdmission = {
        version: dir.version,
        admission: status.state,
        path: dir.path,
        firstSeenAt: status.firstSeenAt,
        ...(status.state === "complete" ? {} : { detail: status.detail, reasons: verdict.reasons }),
      };
      versions.push(entry);
      if (status.state === "pending") {
        pendingPaths.push(dir.path);
        if (status.recheckInMs !== undefined)
          recheckInMs = Math.min(recheckInMs ?? Infinity, status.recheckInMs);
      } else {
        // Final: later passes reuse it without reading the directory again.
        this.finals.set(key, entry);
        if (status.state === "overdue") newlyOverdue.push(entry);
      }
    }
    for (const d of listing.duplicates) {
      versions.push({
        version: d.version,
        admission: "duplicate",
        path: join(listing.basePath, d.loadedByTfServing),
        detail: d.message,
      });
    }
    for (const r of listing.refused) {
      versions.push({ version: r.version, admission: "refused", path: r.path, detail: r.message });
    }
    this.forgetVanished(model, seen);
    versions.sort((a, b) => compareVersions(a.version, b.version));
    return {
      model,
      listing,
      versions,
      pendingPaths,
      newlyOverdue,
      ...(recheckInMs === undefined ? {} : { recheckInMs }),
    };
  }

  /** Operator retry: forget the tracker so the version is judged afresh (e.g. after an overdue report). */
  forget(model: string, version: string): void {
    for (const key of [...this.trackers.keys(), ...this.finals.keys()]) {
      if (key.startsWith(`${model}\0${version}\0`)) {
        this.trackers.delete(key);
        this.finals.delete(key);
      }
    }
  }

  private forgetVanished(model: string, seen: ReadonlySet<string>): void {
    for (const key of [...this.trackers.keys(), ...this.finals.keys()]) {
      if (key.startsWith(`${model}\0`) && !seen.has(key)) {
        this.trackers.delete(key);
        this.finals.delete(key);
      }
    }
  }
}
