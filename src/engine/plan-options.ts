/**
 * The plan() options of one model at time `now`, from its merged settings: the one place that turns daemon config
 * into planning options, shared by the daemon's passes and by every operator command (status, plan, rollback, ...).
 */
import { DEFAULT_PLAN_OPTIONS, type PlanOptions } from "../controller/types.js";
import type { ModelConfigView } from "../daemon-config/types.js";
import { promotionPlanOptions } from "./promotion-window.js";
import { retentionPlanOptions } from "./retention-schedule.js";

/**
 * `now` is the planning clock (the daemon's steady clock, steady-clock.ts); `wall` the wall clock, which calendar
 * rules (promotion windows, freezes, the retention schedule) are read on. Their instants are carried onto the
 * planning clock, so plan() compares like with like. Without `wall` both are `now`.
 */
export function planOptionsFor(settings: ModelConfigView, now: number, wall: number = now): PlanOptions {
  const toPlanClock = (t: number): number => t + (now - wall);
  const promotion = promotionPlanOptions(settings, wall);
  if (promotion.window?.opensAt !== undefined)
    promotion.window = { ...promotion.window, opensAt: toPlanClock(promotion.window.opensAt) };
  const { retention } = retentionPlanOptions(settings, wall);
  return {
    ...DEFAULT_PLAN_OPTIONS,
    ...promotion,
    ...(retention ? { retention: { ...retention, dueAt: toPlanClock(retention.dueAt) } } : {}),
    loadTimeoutMs: settings.rollout.load_deadline,
    rollbackAction: settings.rollback.action,
    keepPrevious: settings.bake.keep_previous,
    bakePeriodMs: settings.bake.period,
  };
}
