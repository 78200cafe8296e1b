/**
 * Which version, if any, is the model's next rollout candidate. Pure.
 *
 * Rules (issue 5 "Several new versions at once"):
 * - only versions ABOVE the current stable can be candidates (versions at or below it are history);
 * - a version with a verdict is not chosen again: promoted never; rejected, skipped or incomplete only with an
 *   operator retry intent ("a rejected number that reappears is not retried until an operator says so");
 * - of the admitted (complete) unverdicted versions the NEWEST is the candidate; the older admitted ones are
 *   `skip`ped (the caller records the verdict `skipped` and reports them);
 * - one rollout at a time: while a version holds the verdict `candidate`, it stays the candidate and nothing
 *   else is chosen or skipped.
 *
 * Pending, overdue, duplicate and refused versions are never candidates; a pending version newer than the
 * candidate does not block it (it becomes the next candidate once admitted).
 */
import { compareVersions } from "./version-dirs.js";

export type AdmissionKind = "complete" | "pending" | "overdue" | "duplicate" | "refused" | "unchecked";
export type VerdictKind = "candidate" | "promoted" | "rejected" | "skipped" | "incomplete";

export interface CandidateInput {
  /** Every version found on disk with its admission result. */
  versions: readonly { version: string; admission: AdmissionKind }[];
  /** Recorded verdicts by version. */
  verdicts: Readonly<Record<string, VerdictKind>>;
  stableVersion?: string;
  /** Versions an operator asked to retry (`tfs-rollout retry`): their rejected/skipped/incomplete verdict is void. */
  retry?: readonly string[];
}

export interface CandidateSelection {
  candidate?: string;
  /** The candidate was already chosen earlier (verdict `candidate`): a rollout is in flight. */
  inFlight: boolean;
  /** Admitted, never verdicted, older than the candidate: to be recorded as `skipped` and reported. */
  skip: string[];
  /** On disk again with a rejected/skipped/incomplete verdict and no retry intent. */
  notRetried: string[];
  /** At or below stable: never candidates. */
  belowStable: string[];
  /** Above stable, unverdicted, not admitted yet (pending): newer ones become the next candidate. */
  waiting: string[];
}

const RETRYABLE: ReadonlySet<VerdictKind> = new Set(["rejected", "skipped", "incomplete"]);

export function selectCandidate(input: CandidateInput): CandidateSelection {
  const retry = new Set(input.retry ?? []);
  const result: CandidateSelection = {
    inFlight: false,
    skip: [],
    notRetried: [],
    belowStable: [],
    waiting: [],
  };
  const versions = [...input.versions].sort((a, b) => compareVersions(a.version, b.version));
  const inFlight = versions.find((v) => input.verdicts[v.version] === "candidate");
  const eligible: string[] = [];
  for (const { version, admission } of versions) {
    if (input.stableVersion !== undefined && compareVersions(version, input.stableVersion) <= 0) {
      result.belowStable.push(version);
      continue;
    }
    const verdict = input.verdicts[version];
    if (verdict !== undefined && !(RETRYABLE.has(verdict) && retry.has(version))) {
      if (RETRYABLE.has(verdict)) result.notRetried.push(version);
      continue;
    }
    if (admission === "complete") eligible.push(version);
    else if (admission === "pending") result.waiting.push(version);
  }
  if (inFlight !== undefined) {
    return { ...result, candidate: inFlight.version, inFlight: true };
  }
  const candidate = eligible.pop();
  if (candidate === undefined) return result;
  return { ...result, candidate, skip: eligible };
}
