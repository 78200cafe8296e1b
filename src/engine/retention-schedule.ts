/**
 * When retention runs. Each model with `retention.enabled` gets a node-cron task on `retention.cron` (the
 * daemon's local time, like watch.rescan_cron) that only enqueues the model; plan() then reclaims once per
 * scheduled run: `dueAt` is the latest scheduled time at or before now, and the journaled last run says whether
 * that time was served already. A daemon that was down at the scheduled time catches up when it starts.
 */
import { schedule } from "node-cron";
import type { RescanScheduler } from "../admission/watcher.js";
import type { PlanOptions } from "../controller/types.js";
import type { ModelConfigView } from "../daemon-config/types.js";
import { latestOccurrence } from "./promotion-window.js";

export function retentionPlanOptions(view: ModelConfigView, now: number): Pick<PlanOptions, "retention"> {
  const r = view.retention;
  if (!r.enabled) return {};
  const dueAt = latestOccurrence(r.cron, now);
  if (dueAt === undefined) return {};
  return {
    retention: { keepPromoted: r.keep_promoted, keepRejectedForMs: r.keep_rejected_for, dueAt },
  };
}

export class RetentionScheduler {
  private readonly tasks = new Map<string, { cron: string; task: { stop(): void | Promise<void> } }>();
  private stopped = false;

  constructor(
    private readonly enqueue: (model: string) => void,
    /** Injected in tests to fire ticks by hand. */
    private readonly scheduler: RescanScheduler = nodeCronScheduler,
  ) {}

  /** (Re)schedules every model from its current settings; models no longer enabled or listed are dropped. */
  update(models: readonly string[], settings: (model: string) => ModelConfigView): void {
    // A models.config refresh finishing after stop() must not schedule anything: the process would never exit.
    if (this.stopped) return;
    const wanted = new Map<string, string>();
    for (const model of models) {
      const r = settings(model).retention;
      if (r.enabled) wanted.set(model, r.cron);
    }
    for (const [model, entry] of this.tasks) {
      if (wanted.get(model) !== entry.cron) {
        void entry.task.stop();
        this.tasks.delete(model);
      }
    }
    for (const [model, cron] of wanted) {
      if (this.tasks.has(model)) continue;
      const task = this.scheduler(cron, () => this.enqueue(model));
      this.tasks.set(model, { cron, task });
    }
  }

  scheduled(): string[] {
    return [...this.tasks.keys()];
  }

  stop(): void {
    this.stopped = true;
    for (const { task } of this.tasks.values()) void task.stop();
    this.tasks.clear();
  }
}

const nodeCronScheduler: RescanScheduler = (expression, tick) => {
  const task = schedule(expression, tick, { name: "tfs-rollout-retention", noOverlap: true });
  return { stop: () => task.destroy() };
};
