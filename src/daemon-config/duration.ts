/**
 * Durations in the daemon config: a number of milliseconds, or a number with one unit, without spaces:
 * `500ms`, `2s`, `1.5s`, `10m`, `1h`, `1d`. Anything else (`2 sec`, `2S`, `1h30m`, `-1s`) is rejected, because
 * a misread timeout in a safety tool is worse than a refused one. The result must be a whole number of ms that
 * a Node timer can wait for (at most 2^31 - 1 ms, about 24.8 days; longer timers fire at once).
 */
export const MAX_TIMER_MS = 2 ** 31 - 1;

const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/;

export const DURATION_HINT =
  "write a number of milliseconds or a number with a unit and no space: 500ms, 2s, 10m, 1h, 1d";

export type DurationResult = { ok: true; ms: number } | { ok: false; reason: string };

export function parseDuration(value: unknown): DurationResult {
  let ms: number;
  if (typeof value === "number") {
    if (!Number.isFinite(value)) return { ok: false, reason: "is not a finite number of milliseconds" };
    ms = value;
  } else if (typeof value === "string") {
    const match = DURATION.exec(value);
    if (!match) return { ok: false, reason: "is not a duration" };
    ms = Number(match[1]) * UNIT_MS[match[2] as keyof typeof UNIT_MS];
  } else {
    return { ok: false, reason: "is not a duration" };
  }
  if (ms < 0) return { ok: false, reason: "is negative" };
  if (!Number.isInteger(ms)) return { ok: false, reason: "is not a whole number of milliseconds" };
  if (ms > MAX_TIMER_MS) return { ok: false, reason: "is longer than a timer can wait (24.8 days)" };
  return { ok: true, ms };
}

/** The shortest exact spelling of a duration, for logs and messages: 2000 → "2s", 1500 → "1500ms". */
export function formatDuration(ms: number): string {
  for (const unit of ["d", "h", "m", "s"] as const) {
    if (ms !== 0 && ms % UNIT_MS[unit] === 0) return `${ms / UNIT_MS[unit]}${unit}`;
  }
  return `${ms}ms`;
}
