import { CronExpressionParser } from "cron-parser";
import { validateDetailed } from "node-cron";
import { z } from "zod";
import type { FreezeConfig } from "./types.js";

/**
 * The `promotion`, `approval` and `retention` sections (issue 7 "Rollout windows and approval", "Retention"),
 * global and per model. Their durations may be longer than a Node timer (a 30-day freeze, rejected directories
 * kept for 90 days): nothing waits for them with a single setTimeout.
 */

const LONG_UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
const LONG_DURATION = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/;
/** Ten years: anything longer is a typo. */
const MAX_LONG_MS = 10 * 366 * 86_400_000;

function parseLongDuration(value: unknown): number | string {
  if (typeof value === "number")
    return Number.isInteger(value) && value >= 0
      ? value
      : "is not a whole, non-negative number of milliseconds";
  const match = typeof value === "string" ? LONG_DURATION.exec(value) : null;
  if (!match) return "is not a duration";
  const ms = Number(match[1]) * LONG_UNIT_MS[match[2] as keyof typeof LONG_UNIT_MS];
  if (!Number.isInteger(ms)) return "is not a whole number of milliseconds";
  return ms > MAX_LONG_MS ? "is longer than ten years" : ms;
}

function longDuration(min = 0) {
  return z.unknown().transform((value, ctx) => {
    if (value === undefined) {
      // Reported like any missing key ("is required"); optional keys never get here.
      ctx.addIssue({ code: "invalid_type", expected: "string", input: value });
      return z.NEVER;
    }
    const ms = parseLongDuration(value);
    const problem = typeof ms === "string" ? ms : ms < min ? `must be at least ${min}ms` : undefined;
    if (problem !== undefined || typeof ms === "string") {
      ctx.addIssue({ code: "custom", message: problem ?? "", params: { kind: "duration" } });
      return z.NEVER;
    }
    return ms;
  });
}

/** A cron expression cron-parser can evaluate (5 fields, or 6 with seconds first), as for node-cron. */
const windowCron = z.string().superRefine((expression, ctx) => {
  try {
    CronExpressionParser.parse(expression, { strict: false });
    if (expression.trim().split(/\s+/).length < 5) throw new Error("needs 5 or 6 fields");
  } catch (error) {
    ctx.addIssue({
      code: "custom",
      message: `is not a valid cron expression (${(error as Error).message}); write 5 fields (minute hour day month weekday) or 6 with seconds first, e.g. "0 9 * * 1-5"`,
    });
  }
});

/** Scheduled with node-cron and evaluated with cron-parser: both must accept it. */
const scheduleCron = windowCron.superRefine((expression, ctx) => {
  const result = validateDetailed(expression);
  if (!result.valid) {
    const details = result.errors.map((error) => `${error.field}: ${error.message}`).join("; ");
    ctx.addIssue({ code: "custom", message: `is not a valid cron expression (${details || "unparsable"})` });
  }
});

export function isTimeZone(name: string): boolean {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

const timeZone = z.string().refine(isTimeZone, {
  message: 'is not an IANA time zone; write e.g. "UTC", "Europe/Paris" or "America/New_York"',
});

/** An ISO 8601 time WITH its UTC offset: a freeze must not move with the daemon's host time zone. */
const isoTime = z.string().superRefine((text, ctx) => {
  const withOffset = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(text);
  if (!withOffset || Number.isNaN(Date.parse(text)))
    ctx.addIssue({
      code: "custom",
      message:
        "is not an ISO 8601 time with a UTC offset; write e.g. 2026-12-24T00:00:00Z or 2026-12-24T00:00:00+01:00",
    });
});

export const promotionWindowSchema = z.strictObject({ cron: windowCron, duration: longDuration(1) });

/** A recurring freeze (cron + duration) or a one-off freeze (from, to). */
export const freezeSchema = z
  .strictObject({
    cron: windowCron.optional(),
    duration: longDuration(1).optional(),
    from: isoTime.optional(),
    to: isoTime.optional(),
  })
  .superRefine((freeze, ctx) => {
    const recurring = freeze.cron !== undefined || freeze.duration !== undefined;
    const oneOff = freeze.from !== undefined || freeze.to !== undefined;
    const hint = "a freeze is either {cron, duration} (recurring) or {from, to} (ISO times with offset)";
    if (recurring === oneOff) {
      ctx.addIssue({ code: "custom", message: `must have cron and duration, or from and to: ${hint}` });
      return;
    }
    for (const key of recurring ? (["cron", "duration"] as const) : (["from", "to"] as const)) {
      if (freeze[key] === undefined)
        ctx.addIssue({ code: "invalid_type", expected: "string", input: undefined, path: [key] });
    }
    if (
      freeze.from !== undefined &&
      freeze.to !== undefined &&
      Date.parse(freeze.to) <= Date.parse(freeze.from)
    )
      ctx.addIssue({ code: "custom", path: ["to"], message: "must be later than from" });
  })
  // The refinement above guarantees one of the two shapes.
  .transform((freeze) => freeze as FreezeConfig);

export const promotionSchema = z.strictObject({
  timezone: timeZone.optional(),
  windows: z.array(promotionWindowSchema).optional(),
  freezes: z.array(freezeSchema).optional(),
});

export const approvalSchema = z.strictObject({
  required: z.boolean().optional(),
  timeout: longDuration(1).optional(),
  on_timeout: z.enum(["reject", "promote"]).optional(),
});

export const retentionSchema = z.strictObject({
  enabled: z.boolean().optional(),
  keep_promoted: z
    .number()
    .int({ message: "must be a whole number" })
    .min(1, { message: "must be at least 1 (stable itself is always kept)" })
    .optional(),
  keep_rejected_for: longDuration().optional(),
  cron: scheduleCron.optional(),
});
