import assert from "node:assert/strict";
import { test } from "node:test";
import { configForModel } from "../src/daemon-config/model-view.js";
import { normalizeDaemonConfig } from "../src/daemon-config/normalize.js";
import type { DaemonConfig } from "../src/daemon-config/types.js";
import { RetentionScheduler, retentionPlanOptions } from "../src/engine/retention-schedule.js";

const DAY = 86_400_000;

function config(retention: Record<string, unknown>, overrides: Record<string, unknown> = {}): DaemonConfig {
  return normalizeDaemonConfig({ model_config_file: "/m", retention, models_overrides: overrides } as never, {
    baseDir: "/",
    env: {},
    once: false,
    configFile: null,
  });
}

test("retention is off by default: no plan options, nothing scheduled", () => {
  const c = config({});
  assert.deepEqual(retentionPlanOptions(configForModel(c, "m"), Date.now()), {});
  const scheduler = new RetentionScheduler(
    () => {},
    () => assert.fail("scheduled"),
  );
  scheduler.update(["m"], (m) => configForModel(c, m));
  assert.deepEqual(scheduler.scheduled(), []);
});

test("enabled: dueAt is the latest scheduled time at or before now (local time, like rescan_cron)", () => {
  const c = config({ enabled: true, keep_promoted: 2, keep_rejected_for: 3 * DAY, cron: "*/10 * * * * *" });
  const now = new Date(2026, 10, 22, 3, 0, 17).getTime();
  assert.deepEqual(retentionPlanOptions(configForModel(c, "m"), now), {
    retention: {
      keepPromoted: 2,
      keepRejectedForMs: 3 * DAY,
      dueAt: new Date(2026, 10, 22, 3, 0, 10).getTime(),
    },
  });
  const daily = config({ enabled: true });
  const dueAt = retentionPlanOptions(configForModel(daily, "m"), now).retention?.dueAt;
  assert.equal(dueAt, new Date(2026, 10, 22, 3, 0, 0).getTime(), "default: daily at 03:00");
});

test("the scheduler enqueues each enabled model on its cron, follows config changes and stops", () => {
  const ticks: [string, () => void][] = [];
  const fire = (expression: string) => ticks.filter(([e]) => e === expression).forEach(([, tick]) => tick());
  const stopped: string[] = [];
  const enqueued: string[] = [];
  const scheduler = new RetentionScheduler(
    (model) => enqueued.push(model),
    (expression, tick) => {
      ticks.push([expression, tick]);
      return { stop: () => void stopped.push(expression) };
    },
  );
  let c = config(
    { enabled: true, cron: "0 3 * * *" },
    { b: { retention: { cron: "0 4 * * *" } }, c: { retention: { enabled: false } } },
  );
  scheduler.update(["a", "b", "c"], (m) => configForModel(c, m));
  assert.deepEqual(scheduler.scheduled().sort(), ["a", "b"]);
  fire("0 4 * * *");
  assert.deepEqual(enqueued, ["b"]);

  c = config({ enabled: true, cron: "0 5 * * *" }, { b: { retention: { enabled: false } } });
  scheduler.update(["a", "b", "c"], (m) => configForModel(c, m));
  assert.deepEqual(scheduler.scheduled(), ["a", "c"]);
  assert.deepEqual(stopped.sort(), ["0 3 * * *", "0 4 * * *"]);
  fire("0 5 * * *");
  assert.deepEqual(enqueued, ["b", "a", "c"]);
  scheduler.stop();
  assert.deepEqual(scheduler.scheduled(), []);
  assert.equal(stopped.length, 4);
});

test("after stop(), a late update (a models.config refresh finishing) schedules nothing", () => {
  const c = config({ enabled: true, cron: "0 3 * * *" });
  let scheduled = 0;
  const scheduler = new RetentionScheduler(
    () => {},
    () => {
      scheduled++;
      return { stop: () => undefined };
    },
  );
  scheduler.stop();
  scheduler.update(["m"], (m) => configForModel(c, m));
  assert.equal(scheduled, 0);
  assert.deepEqual(scheduler.scheduled(), []);
});
