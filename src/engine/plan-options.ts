/**
 * The plan() options of one model at time `now`, from its merged settings: the one place that turns daemon config
 * into planning options, shared by the daemon's passes and by every operator command (status, plan, rollback, ...).
 */
import { DEFAULT_PLAN_OPTIONS, type PlanOptions } from "../controller/types.js";
import type { ModelConfigView } from "../daemon-config/types.js";
import { promotionPlanOptions } from "./promotion-window.js";
import { retentionPlanOptions } from "./retention-schedule.js";

export function planOptionsFor(settings: ModelConfigView, now: number): PlanOptions {
  return {
    ...DEFAULT_PLAN_OPTIONS,
    ...promotionPlanOptions(settings, now),
    ...retentionPlanOptions(settings, now),
    loadTimeoutMs: settings.rollout.load_deadline,
    rollbackAction: settings.rollback.action,
    keepPrevious: settings.bake.keep_previous,
    bakePeriodMs: settings.bake.period,
  };
}
