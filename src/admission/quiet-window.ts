/**
 * The admission state machine of ONE pending version directory. Pure: no I/O, no clock; the caller passes each
 * observation (a completeness verdict, see completeness.ts) with `now` from an injected MONOTONIC clock (ms).
 *
 *   pending ──(complete && quiet for the window)────────▶ complete   (quiet mode, default window 2 s)
 *   pending ──(complete && marker file present)─────────▶ complete   (marker mode: the marker replaces the window)
 *   pending ──(deadline since first seen, default 1 h)──▶ overdue    (reported, never loaded)
 *
 * "Quiet" means the same fingerprint digest (every file's path, size, mtime) has been observed continuously for
 * the window: any change restarts it. Both end states are final; only an operator retry makes a new tracker.
 *
 * Nothing announces that a tree has become quiet (no event fires after the last write), so every pending status
 * carries `recheckInMs`: the daemon must observe again after that long even when no watch event arrives.
 */

export type AdmissionMode = { kind: "quiet"; quietWindowMs: number } | { kind: "marker"; markerFile: string };

export interface AdmissionRules {
  mode: AdmissionMode;
  /** Since the directory was first seen; default 1 h. */
  deadlineMs: number;
}

export const DEFAULT_QUIET_WINDOW_MS = 2_000;
export const DEFAULT_INCOMPLETE_DEADLINE_MS = 3_600_000;

export function admissionRules(
  options: { quietWindowMs?: number; markerFile?: string; deadlineMs?: number } = {},
) {
  const mode: AdmissionMode =
    options.markerFile !== undefined
      ? { kind: "marker", markerFile: options.markerFile }
      : { kind: "quiet", quietWindowMs: options.quietWindowMs ?? DEFAULT_QUIET_WINDOW_MS };
  return { mode, deadlineMs: options.deadlineMs ?? DEFAULT_INCOMPLETE_DEADLINE_MS } satisfies AdmissionRules;
}

/** What the state machine needs from a completeness verdict. */
export interface Observation {
  complete: boolean;
  fingerprint: { digest: string };
  markerPresent?: boolean;
  reasons?: readonly { message: string }[];
}

export type AdmissionState = "pending" | "complete" | "overdue";

export interface AdmissionStatus {
  state: AdmissionState;
  /** Human summary of what admission waits for (pending), or why it gave up (overdue). */
  detail: string;
  firstSeenAt: number;
  /** Pending only: observe again after this many ms even without a watch event. */
  recheckInMs?: number;
}

export class AdmissionTracker {
  private digest: string | undefined;
  private unchangedSince: number;
  private final: AdmissionStatus | undefined;

  constructor(
    readonly rules: AdmissionRules,
    readonly firstSeenAt: number,
  ) {
    this.unchangedSince = firstSeenAt;
  }

  observe(observation: Observation, now: number): AdmissionStatus {
    if (this.final) return this.final;
    if (observation.fingerprint.digest !== this.digest) {
      this.digest = observation.fingerprint.digest;
      this.unchangedSince = now;
    }
    const { mode, deadlineMs } = this.rules;
    const quietForMs = now - this.unchangedSince;
    const ready =
      observation.complete &&
      (mode.kind === "marker" ? observation.markerPresent === true : quietForMs >= mode.quietWindowMs);
    if (ready) return (this.final = this.status("complete", "complete", undefined));

    const waitingFor = !observation.complete
      ? `incomplete: ${(observation.reasons ?? []).map((r) => r.message).join("; ") || "see the completeness check"}`
      : mode.kind === "marker"
        ? `waiting for the marker file ${mode.markerFile}`
        : `waiting for ${mode.quietWindowMs} ms without changes (quiet for ${quietForMs} ms)`;
    const deadlineInMs = this.firstSeenAt + deadlineMs - now;
    if (deadlineInMs <= 0) {
      return (this.final = this.status(
        "overdue",
        `not complete ${deadlineMs} ms after it appeared; ${waitingFor}`,
        undefined,
      ));
    }
    const quietInMs =
      observation.complete && mode.kind === "quiet"
        ? mode.quietWindowMs - quietForMs
        : Number.POSITIVE_INFINITY;
    return this.status("pending", waitingFor, Math.min(quietInMs, deadlineInMs));
  }

  private status(state: AdmissionState, detail: string, recheckInMs: number | undefined): AdmissionStatus {
    return {
      state,
      detail,
      firstSeenAt: this.firstSeenAt,
      ...(recheckInMs === undefined ? {} : { recheckInMs }),
    };
  }
}
