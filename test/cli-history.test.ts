// `tfs-rollout history`: the audit trail read from a journal written the way the engine writes it (no TF Serving
// needed: history only reads the state directory).
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import type { AuditEvent } from "../src/commands/audit.js";
import type { ControllerRecord, Step } from "../src/controller/types.js";
import { openLocalState, type LocalState } from "../src/state/local-store.js";
import type { JsonValue } from "../src/state/store.js";
import { cli, parseJson, snapshotTree } from "./helpers/cli-look.js";

const T = (s: number) => new Date(Date.UTC(2026, 10, 22, 1, 0, s)).toISOString();

interface Fixture {
  dir: string;
  flags: string[];
  state: LocalState;
}

async function fixture(t: { after(fn: () => void): void }): Promise<Fixture> {
  const dir = mkdtempSync(join(tmpdir(), "tfs-rollout-history-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const configFile = join(dir, "models.config");
  writeFileSync(
    configFile,
    'model_config_list {\n  config { name: "m" base_path: "/models/m" model_platform: "tensorflow" }\n' +
      '  config { name: "n" base_path: "/models/n" model_platform: "tensorflow" }\n}\n',
  );
  const stateDir = join(dir, "state");
  const state = await openLocalState(stateDir);
  // The port is never contacted: history reads the journal only.
  const flags = [`--model-config-file=${configFile}`, `--state-dir=${stateDir}`, "--grpc=127.0.0.1:1"];
  return { dir, flags, state };
}

const record = (extra: Partial<ControllerRecord> = {}): ControllerRecord => ({
  verdicts: {},
  progress: {},
  ...extra,
});

async function step(
  state: LocalState,
  id: string,
  at: number,
  s: Step,
  outcome: { ok: boolean; reason: string },
  rec: ControllerRecord,
  extra: Record<string, unknown> = {},
): Promise<void> {
  const json = JSON.parse(JSON.stringify(s)) as JsonValue;
  await state.journal.append({ id, model: s.model, step: json, phase: "begin", by: "daemon", at: T(at) });
  await state.journal.append({
    id,
    model: s.model,
    step: json,
    phase: outcome.ok ? "done" : "failed",
    by: "daemon",
    at: T(at + 1),
    detail: JSON.parse(JSON.stringify({ outcome, record: rec, ...extra })) as JsonValue,
  });
}

const GATE_REPORT = {
  passed: true,
  durationMs: 12,
  checks: [
    {
      name: "predict grpc serving_default",
      passed: true,
      detail: "1 output finite",
      numbers: { latency_ms: 3.25 },
    },
    { name: "latency budget", passed: true, detail: "p99 within 50ms", numbers: { p50_ms: 2, p99_ms: 4.5 } },
  ],
};

async function writeTrail(state: LocalState): Promise<void> {
  await step(
    state,
    "a1",
    0,
    { kind: "admit", model: "m", candidate: "2", skipped: [] },
    { ok: true, reason: "candidate 2" },
    record(),
  );
  await step(
    state,
    "g1",
    2,
    { kind: "gate", model: "m", version: "2", stable: "1" },
    { ok: true, reason: "2 checks passed" },
    record(),
    { gate: GATE_REPORT },
  );
  await step(
    state,
    "p1",
    4,
    {
      kind: "promote",
      model: "m",
      version: "2",
      from: "1",
      config: { specific: ["1", "2"], labels: { stable: "2" } },
    },
    { ok: true, reason: "wrote specific [1, 2] stable=2 and reloaded" },
    record(),
  );
  await step(
    state,
    "g2",
    6,
    { kind: "gate", model: "m", version: "3", stable: "2" },
    { ok: false, reason: "predict: output y has NaN" },
    record(),
  );
  await state.verdicts.put({
    model: "m",
    version: "3",
    verdict: "rejected",
    reason: "gate failed",
    at: T(7),
    by: "daemon",
    gate: {
      passed: false,
      checks: [
        {
          name: "predict grpc serving_default",
          passed: false,
          detail: "output y has NaN",
          numbers: { nan: 2 },
        },
      ],
    },
  });
  const alice = await state.intents.put({
    model: "m",
    kind: "rollback",
    args: { to: "1" },
    by: "cli:alice",
    at: T(8),
  });
  await state.intents.markConsumed("m", alice.id, "daemon", { ok: true });
  const rollback = { intentId: alice.id, target: "1", reject: ["2"], action: "rename" as const };
  await step(
    state,
    "r1",
    10,
    { kind: "start-rollback", model: "m", intentId: alice.id, target: "1", reject: ["2"], action: "rename" },
    { ok: true, reason: "recorded" },
    record({ rollback }),
  );
  await step(
    state,
    "r2",
    12,
    {
      kind: "promote",
      model: "m",
      version: "1",
      from: "2",
      config: { specific: ["1", "2"], labels: { stable: "1" } },
    },
    { ok: true, reason: "wrote specific [1, 2] stable=1 and reloaded" },
    record({ rollback }),
  );
  await step(
    state,
    "h1",
    14,
    {
      kind: "accept-hand-edit",
      model: "m",
      observed: {
        basePath: "/models/m",
        platform: "tensorflow",
        policy: { kind: "specific", versions: ["1"] },
        labels: { stable: "1" },
      },
      previous: { specific: ["1", "2"], labels: { stable: "1" } },
      changes: ["specific [1, 2] → [1]"],
      stableLabel: "stable",
    },
    { ok: true, reason: "hand edit of models.config accepted as intent: specific [1, 2] → [1]" },
    record(),
  );
  const bake = await state.intents.put({
    model: "m",
    kind: "rollback",
    args: { to: "1" },
    by: "auto-rollback",
    at: T(15),
  });
  await step(
    state,
    "b1",
    16,
    { kind: "start-rollback", model: "m", intentId: bake.id, target: "1", reject: [], action: "rename" },
    { ok: true, reason: "recorded" },
    record(),
  );
  await state.journal.append({
    id: "f1",
    model: "m",
    step: { kind: "await-available", model: "m", version: "4", deadline: 0 },
    phase: "begin",
    by: "daemon",
    at: T(20),
  });
  await step(
    state,
    "n1",
    1,
    { kind: "admit", model: "n", candidate: "7", skipped: [] },
    { ok: true, reason: "candidate 7" },
    record(),
  );
}

test("history --json: newest first, what and who (daemon, cli user, hand edit, auto-rollback), gate numbers", async (t) => {
  const f = await fixture(t);
  await writeTrail(f.state);
  const before = snapshotTree(f.state.paths.root);
  const run = await cli(["history", "m", "--json", ...f.flags]);
  assert.equal(run.code, 0, run.err);
  const events = parseJson<{ events: AuditEvent[] }>(run).events;
  assert.deepEqual(
    events.map((e) => e.id),
    ["f1", "b1", "h1", "r2", "r1", "g2", "p1", "g1", "a1"],
  );
  const byId = new Map(events.map((e) => [e.id, e]));
  assert.equal(byId.get("f1")?.outcome, "in-flight");
  assert.equal(byId.get("a1")?.by, "daemon");
  assert.match(byId.get("a1")?.what ?? "", /detected 2: admitted as candidate/);
  assert.equal(byId.get("g1")?.outcome, "ok");
  assert.deepEqual(byId.get("g1")?.gate?.checks[1]?.numbers, { p50_ms: 2, p99_ms: 4.5 });
  assert.equal(byId.get("g2")?.outcome, "failed");
  assert.equal(
    byId.get("g2")?.gate?.checks[0]?.detail,
    "output y has NaN",
    "from the verdict store's gate field",
  );
  assert.equal(byId.get("r1")?.by, "cli:alice");
  assert.equal(byId.get("r1")?.intent?.kind, "rollback");
  assert.equal(
    byId.get("r2")?.by,
    "cli:alice",
    "steps of an operator rollback under way belong to the operator",
  );
  assert.match(byId.get("r2")?.what ?? "", /promote 1 \(stable 2 → 1\)/);
  assert.equal(byId.get("h1")?.by, "hand-edit");
  assert.equal(byId.get("b1")?.by, "auto-rollback");
  assert.equal(byId.get("p1")?.by, "daemon");
  assert.equal(snapshotTree(f.state.paths.root), before, "history wrote nothing");
});

test("history: table with gate numbers; every model merged by time; --limit; usage errors", async (t) => {
  const f = await fixture(t);
  await writeTrail(f.state);
  const table = await cli(["history", ...f.flags]);
  assert.equal(table.code, 0, table.err);
  assert.match(table.out, /^TIME +MODEL +VERSION +BY +EVENT$/m);
  assert.match(table.out, /^2026-11-22T01:00:03Z +m +2 +daemon +gate passed for 2: 2 checks passed$/m);
  assert.match(table.out, /pass latency budget: p99 within 50ms \[p50_ms=2 p99_ms=4\.5\]/);
  assert.match(table.out, /^2026-11-22T01:00:02Z +n +7 +daemon +detected 7/m, "model n is listed too");
  assert.match(table.out, /cli:alice +rollback to 1 started \(taking out 2\)/);

  const limited = parseJson<{ events: AuditEvent[] }>(
    await cli(["history", "--limit", "2", "--json", ...f.flags]),
  );
  assert.deepEqual(
    limited.events.map((e) => e.id),
    ["f1", "b1"],
  );
  const zero = await cli(["history", "--limit", "0", ...f.flags]);
  assert.equal(zero.code, 2);
  assert.match(zero.err, /--limit must be a positive whole number/);
  const unknown = await cli(["history", "x", ...f.flags]);
  assert.equal(unknown.code, 2);
  assert.match(unknown.err, /unknown model "x"/);
});

test("history: an empty state directory (or none at all) has no events and creates nothing", async (t) => {
  const f = await fixture(t);
  const empty = await cli(["history", "m", ...f.flags]);
  assert.equal(empty.code, 0, empty.err);
  assert.equal(empty.out, "no events in the journal\n");
  const missing = join(f.dir, "no-state");
  const none = await cli(["history", "--json", ...f.flags, `--state-dir=${missing}`]);
  assert.equal(none.code, 0, none.err);
  assert.deepEqual(parseJson(none), { events: [] });
  assert.equal(snapshotTree(missing), "missing");
});
