/**
 * Promotion windows and freezes evaluated with the clock, for plan(), which stays clock-free: is a promotion
 * allowed at `now` (inside a window of the model's `promotion.windows` and outside every freeze), and if not, when
 * does it open next. A window (or recurring freeze) is open from each occurrence of its cron expression, read in
 * `promotion.timezone`, for its duration: now ∈ [occurrence, occurrence + duration). cron-parser answers "latest
 * occurrence at or before" and "next occurrence after", which node-cron cannot.
 */
import { CronExpressionParser } from "cron-parser";
import type { ApprovalPolicy, PlanOptions, WindowFacts } from "../controller/types.js";
import type {
  CronSpanConfig,
  FreezeConfig,
  ModelConfigView,
  PromotionConfig,
} from "../daemon-config/types.js";

/** Jumps (freeze end → next window → ...) before giving up on finding an opening. */
const MAX_JUMPS = 1000;

/** The latest occurrence of `cron` at or before `t`, in `tz` (undefined: the host's time zone). */
export function latestOccurrence(cron: string, t: number, tz?: string): number | undefined {
  try {
    return CronExpressionParser.parse(cron, { currentDate: new Date(t + 1), ...(tz ? { tz } : {}) })
      .prev()
      .getTime();
  } catch {
    return undefined;
  }
}

/** The first occurrence of `cron` strictly after `t`. */
export function nextOccurrence(cron: string, t: number, tz?: string): number | undefined {
  try {
    return CronExpressionParser.parse(cron, { currentDate: new Date(t), ...(tz ? { tz } : {}) })
      .next()
      .getTime();
  } catch {
    return undefined;
  }
}

/** When the span that contains `t` ends, or undefined when `t` is outside it. */
export function spanEnd(span: CronSpanConfig, t: number, tz: string): number | undefined {
  const start = latestOccurrence(span.cron, t, tz);
  return start !== undefined && t < start + span.duration ? start + span.duration : undefined;
}

function freezeEnd(freeze: FreezeConfig, t: number, tz: string): number | undefined {
  if ("cron" in freeze) return spanEnd(freeze, t, tz);
  const from = Date.parse(freeze.from);
  const to = Date.parse(freeze.to);
  return from <= t && t < to ? to : undefined;
}

const describeFreeze = (f: FreezeConfig): string =>
  "cron" in f ? `freeze "${f.cron}"` : `freeze ${f.from} → ${f.to}`;

/** Window facts at `now`; undefined when no window or freeze is configured (promotion any time). */
export function windowFacts(config: PromotionConfig, now: number): WindowFacts | undefined {
  const { windows, freezes, timezone: tz } = config;
  if (windows.length === 0 && freezes.length === 0) return undefined;
  let t = now;
  let why: string | undefined;
  for (let jump = 0; jump < MAX_JUMPS; jump++) {
    const frozen = freezes
      .map((f) => ({ f, end: freezeEnd(f, t, tz) }))
      .filter((x): x is { f: FreezeConfig; end: number } => x.end !== undefined)
      .sort((a, b) => b.end - a.end)[0];
    if (frozen !== undefined) {
      why ??= `in ${describeFreeze(frozen.f)} until ${iso(frozen.end)}`;
      t = frozen.end;
      continue;
    }
    if (windows.length > 0 && windows.every((w) => spanEnd(w, t, tz) === undefined)) {
      const next = windows
        .map((w) => nextOccurrence(w.cron, t, tz))
        .filter((n): n is number => n !== undefined)
        .sort((a, b) => a - b)[0];
      why ??= `outside every promotion window (${windows.map((w) => `"${w.cron}"`).join(", ")}, ${tz})`;
      if (next === undefined) return { open: false, detail: `${why}; no window opens again` };
      t = next;
      continue;
    }
    if (t === now) {
      const open = windows.map((w) => ({ w, end: spanEnd(w, t, tz) })).find((x) => x.end !== undefined);
      const detail = open
        ? `inside window "${open.w.cron}" until ${iso(open.end as number)}`
        : "no freeze in force";
      return { open: true, detail };
    }
    return { open: false, detail: `${why ?? "closed"}; opens ${iso(t)}`, opensAt: t };
  }
  return { open: false, detail: `${why ?? "closed"}; no opening found soon` };
}

export function approvalPolicy(view: ModelConfigView): ApprovalPolicy | undefined {
  const a = view.approval;
  if (!a.required) return undefined;
  // The config rules refuse `required` without a timeout; a day is the fallback, never forever.
  return { required: true, timeoutMs: a.timeout ?? 86_400_000, onTimeout: a.on_timeout };
}

/** The window and approval parts of a model's plan options at `now`. */
export function promotionPlanOptions(
  view: ModelConfigView,
  now: number,
): Pick<PlanOptions, "window" | "approval"> {
  const window = windowFacts(view.promotion, now);
  const approval = approvalPolicy(view);
  return { ...(window ? { window } : {}), ...(approval ? { approval } : {}) };
}

const iso = (ms: number): string => new Date(ms).toISOString();
