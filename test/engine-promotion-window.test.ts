import assert from "node:assert/strict";
import { test } from "node:test";
import { configForModel } from "../src/daemon-config/model-view.js";
import { normalizeDaemonConfig } from "../src/daemon-config/normalize.js";
import type { PromotionConfig } from "../src/daemon-config/types.js";
import {
  approvalPolicy,
  latestOccurrence,
  nextOccurrence,
  promotionPlanOptions,
  spanEnd,
  windowFacts,
} from "../src/engine/promotion-window.js";

const HOUR = 3_600_000;
const at = (iso: string) => Date.parse(iso);
/** Weekdays 09:00-17:00 in Paris (UTC+1 in November). */
const office: PromotionConfig = {
  timezone: "Europe/Paris",
  windows: [{ cron: "0 9 * * 1-5", duration: 8 * HOUR }],
  freezes: [],
};

test("no window and no freeze: no facts (promotion any time)", () => {
  assert.equal(
    windowFacts({ timezone: "UTC", windows: [], freezes: [] }, at("2026-11-22T01:00:00Z")),
    undefined,
  );
});

test("inside a window: open, and the detail says until when", () => {
  const facts = windowFacts(office, at("2026-11-23T10:30:00Z")); // Monday 11:30 Paris
  assert.deepEqual(facts, {
    open: true,
    detail: 'inside window "0 9 * * 1-5" until 2026-11-23T16:00:00.000Z',
  });
});

test("the window is [occurrence, occurrence + duration): open at the start, closed at the end", () => {
  assert.equal(windowFacts(office, at("2026-11-23T08:00:00Z"))?.open, true);
  const end = windowFacts(office, at("2026-11-23T16:00:00Z"));
  assert.equal(end?.open, false);
  assert.equal(end?.opensAt, at("2026-11-24T08:00:00Z"));
});

test("outside: closed, opening next in the configured time zone (the weekend skips to Monday)", () => {
  const facts = windowFacts(office, at("2026-11-21T12:00:00Z")); // Saturday
  assert.equal(facts?.open, false);
  assert.equal(facts?.opensAt, at("2026-11-23T08:00:00Z"));
  assert.match(
    facts?.detail ?? "",
    /outside every promotion window \("0 9 \* \* 1-5", Europe\/Paris\); opens 2026-11-23T08:00:00.000Z/,
  );
  const ny = windowFacts({ ...office, timezone: "America/New_York" }, at("2026-11-21T12:00:00Z"));
  assert.equal(ny?.opensAt, at("2026-11-23T14:00:00Z"));
});

test("a one-off freeze wins over an open window; the opening after it is the next window inside no freeze", () => {
  const config: PromotionConfig = {
    ...office,
    freezes: [{ from: "2026-11-23T00:00:00+01:00", to: "2026-11-24T12:00:00+01:00" }],
  };
  const facts = windowFacts(config, at("2026-11-23T10:00:00Z"));
  assert.equal(facts?.open, false);
  assert.match(
    facts?.detail ?? "",
    /^in freeze 2026-11-23T00:00:00\+01:00 → 2026-11-24T12:00:00\+01:00 until 2026-11-24T11:00:00.000Z/,
  );
  // The freeze ends Tuesday 12:00 Paris, inside Tuesday's window: it opens right then.
  assert.equal(facts?.opensAt, at("2026-11-24T11:00:00Z"));
});

test("a recurring freeze (Fridays from 15:00 for 3 days) closes the window; next opening is Monday", () => {
  const config: PromotionConfig = {
    ...office,
    freezes: [{ cron: "0 15 * * 5", duration: 66 * HOUR }],
  };
  const friday = windowFacts(config, at("2026-11-27T15:00:00Z")); // Friday 16:00 Paris
  assert.equal(friday?.open, false);
  assert.match(friday?.detail ?? "", /in freeze "0 15 \* \* 5" until 2026-11-30T08:00:00.000Z/);
  assert.equal(friday?.opensAt, at("2026-11-30T08:00:00Z"));
  assert.equal(windowFacts(config, at("2026-11-27T13:00:00Z"))?.open, true, "Friday 14:00 Paris is open");
});

test("freezes alone: open outside them", () => {
  const config: PromotionConfig = {
    timezone: "UTC",
    windows: [],
    freezes: [{ cron: "0 0 * * *", duration: HOUR }],
  };
  assert.equal(windowFacts(config, at("2026-11-22T00:30:00Z"))?.open, false);
  assert.equal(windowFacts(config, at("2026-11-22T00:30:00Z"))?.opensAt, at("2026-11-22T01:00:00Z"));
  assert.equal(windowFacts(config, at("2026-11-22T02:00:00Z"))?.open, true);
});

test("6-field crons with seconds: a 5 s window every 10 s", () => {
  const config: PromotionConfig = {
    timezone: "UTC",
    windows: [{ cron: "*/10 * * * * *", duration: 5000 }],
    freezes: [],
  };
  assert.equal(windowFacts(config, at("2026-11-22T00:00:12Z"))?.open, true);
  const closed = windowFacts(config, at("2026-11-22T00:00:17.500Z"));
  assert.equal(closed?.open, false);
  assert.equal(closed?.opensAt, at("2026-11-22T00:00:20Z"));
});

test("occurrence helpers: latest at or before, next strictly after, span end", () => {
  const t = at("2026-11-22T00:00:10Z");
  assert.equal(latestOccurrence("*/10 * * * * *", t, "UTC"), t);
  assert.equal(nextOccurrence("*/10 * * * * *", t, "UTC"), t + 10_000);
  assert.equal(spanEnd({ cron: "*/10 * * * * *", duration: 3000 }, t + 2999, "UTC"), t + 3000);
  assert.equal(spanEnd({ cron: "*/10 * * * * *", duration: 3000 }, t + 3000, "UTC"), undefined);
  assert.equal(latestOccurrence("not a cron", t), undefined);
});

test("approval policy and plan options come from the model's merged view", () => {
  const config = normalizeDaemonConfig(
    {
      model_config_file: "/m",
      approval: { required: true, timeout: 2 * HOUR },
      promotion: { windows: [{ cron: "0 9 * * *", duration: HOUR }] },
      models_overrides: { fast: { approval: { required: false }, promotion: { windows: [] } } },
    },
    { baseDir: "/", env: {}, once: false, configFile: null },
  );
  const slow = configForModel(config, "slow");
  assert.deepEqual(approvalPolicy(slow), { required: true, timeoutMs: 2 * HOUR, onTimeout: "reject" });
  const options = promotionPlanOptions(slow, at("2026-11-22T12:00:00Z"));
  assert.equal(options.window?.open, false);
  assert.equal(options.window?.opensAt, at("2026-11-23T09:00:00Z"));
  assert.deepEqual(promotionPlanOptions(configForModel(config, "fast"), at("2026-11-22T12:00:00Z")), {});
});
