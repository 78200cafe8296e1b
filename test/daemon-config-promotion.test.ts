import assert from "node:assert/strict";
import { test } from "node:test";
import { loadDaemonConfig } from "../src/daemon-config/load.js";
import { configForModel } from "../src/daemon-config/model-view.js";
import { DaemonConfigError } from "../src/daemon-config/problems.js";
import { memoryReader } from "./helpers/daemon-config-reader.js";

const FILE = "/cfg/daemon.yaml";
const DAY = 86_400_000;

const load = (text: string) =>
  loadDaemonConfig({ config: FILE, modelConfigFile: "/m" }, {}, memoryReader({ [FILE]: text }));

async function problemsOf(text: string): Promise<DaemonConfigError["problems"]> {
  try {
    await load(text);
  } catch (error) {
    assert.ok(error instanceof DaemonConfigError, String(error));
    return error.problems;
  }
  assert.fail(`accepted:\n${text}`);
}

test("defaults: no window, no approval, retention off", async () => {
  const config = await load("{}\n");
  assert.deepEqual(config.promotion, { timezone: "UTC", windows: [], freezes: [] });
  assert.deepEqual(config.approval, { required: false, on_timeout: "reject" });
  assert.deepEqual(config.retention, {
    enabled: false,
    keep_promoted: 3,
    keep_rejected_for: 7 * DAY,
    cron: "0 3 * * *",
  });
});

test("windows, freezes, approval and retention load, with durations longer than a timer", async () => {
  const config = await load(
    [
      "promotion:",
      "  timezone: Europe/Paris",
      '  windows: [{ cron: "0 9 * * 1-5", duration: 8h }, { cron: "*/10 * * * * *", duration: 5s }]',
      "  freezes:",
      '    - { cron: "0 15 * * 5", duration: 66h }',
      '    - { from: "2026-12-24T00:00:00+01:00", to: "2027-01-02T00:00:00Z" }',
      "approval: { required: true, timeout: 30d, on_timeout: promote }",
      'retention: { enabled: true, keep_promoted: 5, keep_rejected_for: 90d, cron: "30 2 * * *" }',
      "models_overrides:",
      "  m:",
      "    promotion: { windows: [] }",
      "    approval: { required: false }",
      "    retention: { keep_promoted: 1 }",
    ].join("\n"),
  );
  assert.deepEqual(config.promotion, {
    timezone: "Europe/Paris",
    windows: [
      { cron: "0 9 * * 1-5", duration: 8 * 3_600_000 },
      { cron: "*/10 * * * * *", duration: 5000 },
    ],
    freezes: [
      { cron: "0 15 * * 5", duration: 66 * 3_600_000 },
      { from: "2026-12-24T00:00:00+01:00", to: "2027-01-02T00:00:00Z" },
    ],
  });
  assert.deepEqual(config.approval, { required: true, timeout: 30 * DAY, on_timeout: "promote" });
  assert.deepEqual(config.retention, {
    enabled: true,
    keep_promoted: 5,
    keep_rejected_for: 90 * DAY,
    cron: "30 2 * * *",
  });
  const m = configForModel(config, "m");
  assert.deepEqual(m.promotion.windows, []);
  assert.equal(m.promotion.timezone, "Europe/Paris", "merged key by key");
  assert.deepEqual(m.approval, { required: false, timeout: 30 * DAY, on_timeout: "promote" });
  assert.equal(m.retention.keep_promoted, 1);
  assert.equal(m.retention.enabled, true);
});

/** [YAML, key path, message, hint]. */
const BAD: [string, string, RegExp, RegExp][] = [
  [
    'promotion: { windows: [{ cron: "0 25 * * *", duration: 1h }] }',
    "promotion.windows[0].cron",
    /is not a valid cron expression/,
    /windows: \[\{ cron/,
  ],
  [
    'promotion: { windows: [{ cron: "0 9 * * *" }] }',
    "promotion.windows[0].duration",
    /^is required$/,
    /duration: 8h/,
  ],
  [
    'promotion: { windows: [{ cron: "0 9 * * *", duration: 8 hours }] }',
    "promotion.windows[0].duration",
    /is not a duration/,
    /duration: 8h/,
  ],
  [
    "promotion: { timezone: Mars/Olympus }",
    "promotion.timezone",
    /is not an IANA time zone/,
    /Europe\/Paris/,
  ],
  [
    'promotion: { freezes: [{ cron: "0 15 * * 5" }] }',
    "promotion.freezes[0].duration",
    /^is required$/,
    /duration: 66h/,
  ],
  [
    'promotion: { freezes: [{ cron: "0 15 * * 5", duration: 1h, from: "2026-12-24T00:00:00Z" }] }',
    "promotion.freezes[0]",
    /must have cron and duration, or from and to/,
    /freezes/,
  ],
  [
    'promotion: { freezes: [{ from: "2026-12-24T00:00:00", to: "2026-12-25T00:00:00Z" }] }',
    "promotion.freezes[0].from",
    /with a UTC offset/,
    /freezes/,
  ],
  [
    'promotion: { freezes: [{ from: "2026-12-25T00:00:00Z", to: "2026-12-24T00:00:00Z" }] }',
    "promotion.freezes[0].to",
    /must be later than from/,
    /freezes/,
  ],
  ["promotion: { window: [] }", "promotion.window", /./, /windows/],
  [
    "approval: { required: true }",
    "approval.required",
    /timeout is not set: a candidate would wait forever/,
    /timeout: 24h/,
  ],
  [
    "approval: { on_timeout: wait }",
    "approval.on_timeout",
    /is not one of reject, promote/,
    /on_timeout: reject/,
  ],
  ["approval: { timeout: 0 }", "approval.timeout", /must be at least 1ms/, /timeout: 24h/],
  ["retention: { keep_promoted: 0 }", "retention.keep_promoted", /must be at least 1/, /keep_promoted: 3/],
  [
    "retention: { keep_rejected_for: forever }",
    "retention.keep_rejected_for",
    /is not a duration/,
    /keep_rejected_for: 7d/,
  ],
  [
    'retention: { cron: "every night" }',
    "retention.cron",
    /is not a valid cron expression/,
    /cron: "0 3 \* \* \*"/,
  ],
  [
    "models_overrides: { m: { approval: { required: true } } }",
    "models_overrides.m.approval.required",
    /would wait forever/,
    /timeout: 24h/,
  ],
];

test("bad values are reported at their key with what is wrong and how to fix it", async () => {
  for (const [text, path, message, hint] of BAD) {
    const problems = await problemsOf(`${text}\n`);
    assert.equal(problems.length, 1, `${text}: ${JSON.stringify(problems)}`);
    const [problem] = problems;
    assert.equal(problem!.path, path, text);
    assert.match(problem!.message, message, text);
    assert.match(problem!.hint ?? "", hint, `${text}: hint ${problem!.hint}`);
  }
});

test("a model may require approval when the global approval.timeout is set", async () => {
  const config = await load(
    "approval: { timeout: 2h }\nmodels_overrides: { m: { approval: { required: true } } }\n",
  );
  assert.deepEqual(configForModel(config, "m").approval, {
    required: true,
    timeout: 7_200_000,
    on_timeout: "reject",
  });
  assert.equal(configForModel(config, "other").approval.required, false);
});
