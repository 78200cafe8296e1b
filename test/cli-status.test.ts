// `tfs-rollout status` on a state written the way the engine writes it, with TF Serving down (its address points
// nowhere): everything from models.config, disk and journal is still shown, and the exit code is 3.
import assert from "node:assert/strict";
import { mkdirSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import type { ModelStatus } from "../src/commands/status.js";
import { clipText, formatDuration, formatTime, renderTable } from "../src/commands/table.js";
import type { ControllerRecord } from "../src/controller/types.js";
import { openLocalState } from "../src/state/local-store.js";
import type { JsonValue } from "../src/state/store.js";
import { cli, parseJson, snapshotTree } from "./helpers/cli-look.js";
import { tempDir, writeCompleteVersion } from "./helpers/version-dir.js";

const NOW = Date.now();
const DAEMON_YAML = [
  "admission:",
  "  quiet_window: 1s",
  "  incomplete_deadline: 1h",
  "tf_serving:",
  "  call_deadline: 300ms",
  "  retry:",
  "    attempts: 1",
  "    overall_deadline: 300ms",
].join("\n");

async function world(t: { after(fn: () => void): void }) {
  const dir = tempDir(t, "tfs-rollout-status-");
  const base = join(dir, "models", "m");
  for (const v of ["1", "2", "4"]) writeCompleteVersion(join(base, v));
  mkdirSync(join(base, "5"), { recursive: true });
  writeFileSync(join(base, "5", "half-copied"), "x");
  mkdirSync(join(base, ".rejected-3-20261122T010000Z"));
  const old = new Date(NOW - 60_000);
  for (const v of ["1", "2", "4"]) {
    for (const f of [
      "saved_model.pb",
      "variables/variables.index",
      "variables/variables.data-00000-of-00001",
    ])
      utimesSync(join(base, v, f), old, old);
  }
  const configFile = join(dir, "models.config");
  writeFileSync(
    configFile,
    `model_config_list {\n  config {\n    name: "m"\n    base_path: "${base}"\n    model_platform: "tensorflow"\n` +
      "    model_version_policy { specific { versions: 1 versions: 2 } }\n" +
      '    version_labels { key: "stable" value: 2 }\n    version_labels { key: "canary" value: 1 }\n  }\n}\n',
  );
  const daemonConfig = join(dir, "daemon.yaml");
  writeFileSync(daemonConfig, DAEMON_YAML);
  const stateDir = join(dir, "state");
  const state = await openLocalState(stateDir);
  const rec: ControllerRecord = {
    verdicts: {
      "1": { verdict: "promoted", reason: "earlier", at: NOW - 50_000, by: "daemon" },
      "2": { verdict: "promoted", reason: "stable resolves to 2", at: NOW - 40_000, by: "daemon" },
      "3": {
        verdict: "rejected",
        reason: "gate failed: output y has NaN",
        at: NOW - 30_000,
        by: "daemon",
        quarantinedAs: ".rejected-3-20261122T010000Z",
      },
      "5": {
        verdict: "incomplete",
        reason: "never completed before the admission deadline",
        at: NOW - 20_000,
        by: "daemon",
      },
      "4": { verdict: "candidate", reason: "newest complete version", at: NOW - 10_000, by: "daemon" },
    },
    progress: { "3": { gate: { passed: false, reason: "output y has NaN", at: NOW - 31_000 } } },
    pin: { version: "2", reason: "holiday freeze", by: "cli:alice", at: NOW - 5000 },
    lastWritten: { specific: ["1", "2"], labels: { canary: "1", stable: "2" } },
    verified: { version: "2", at: NOW - 40_000 },
  };
  const step = { kind: "record-verdict", model: "m", version: "4", verdict: "candidate", reason: "x" };
  await state.journal.append({ id: "s1", model: "m", step, phase: "begin", by: "daemon" });
  await state.journal.append({
    id: "s1",
    model: "m",
    step,
    phase: "done",
    by: "daemon",
    detail: JSON.parse(
      JSON.stringify({ outcome: { ok: true, reason: "candidate 4" }, record: rec }),
    ) as JsonValue,
  });
  await state.journal.append({
    id: "s2",
    model: "m",
    step: {
      kind: "load",
      model: "m",
      version: "4",
      config: { specific: ["1", "2", "4"], labels: { stable: "2" } },
    },
    phase: "begin",
    by: "daemon",
  });
  await state.intents.put({ model: "m", kind: "unpin", args: {}, by: "cli:bob" });
  const flags = [
    `--config=${daemonConfig}`,
    `--model-config-file=${configFile}`,
    `--state-dir=${stateDir}`,
    "--grpc=127.0.0.1:1",
  ];
  return { dir, base, flags, stateDir };
}

test("status --json with TF Serving down: labels, verdicts, admission, pin, in flight, intents; exit 3", async (t) => {
  const w = await world(t);
  const before = snapshotTree(w.dir);
  const run = await cli(["status", "--json", ...w.flags]);
  assert.equal(run.code, 3, run.err);
  assert.match(run.err, /TF Serving at 127\.0\.0\.1:1 is unreachable/);
  assert.match(run.err, /hint: .*--grpc HOST:PORT/);
  const doc = parseJson<{ tf_serving: { reachable: boolean; address: string }; models: ModelStatus[] }>(run);
  assert.deepEqual(doc.tf_serving, { address: "127.0.0.1:1", reachable: false });
  const m = doc.models[0]!;
  assert.equal(m.stable, "2");
  assert.deepEqual(m.labels, { stable: "2", canary: "1" });
  assert.deepEqual(m.policy, { kind: "specific", versions: ["1", "2"] });
  assert.deepEqual(
    m.versions.map((v) => [v.version, v.verdict ?? null, v.dir ?? null, v.admission ?? null]),
    [
      ["5", "incomplete", "5", null],
      ["4", "candidate", "4", "complete"],
      ["3", "rejected", null, null],
      ["2", "promoted", "2", null],
      ["1", "promoted", "1", null],
    ],
  );
  const v2 = m.versions.find((v) => v.version === "2");
  assert.deepEqual(v2?.labels, ["stable"]);
  assert.equal(v2?.listed, true);
  assert.equal(v2?.tf_state, undefined);
  assert.equal(m.versions.find((v) => v.version === "3")?.quarantined_as, ".rejected-3-20261122T010000Z");
  assert.equal(m.pin?.version, "2");
  assert.equal(m.pin?.active, true);
  assert.equal(m.in_flight?.step.kind, "load");
  assert.equal(m.busy, null);
  assert.deepEqual(
    m.pending_intents.map((i) => [i.kind, i.by]),
    [["unpin", "cli:bob"]],
  );
  assert.equal(m.next.kind, "wait");
  assert.match(m.next.reason, /unreachable/);
  assert.equal(m.last_gate?.version, "3");
  assert.equal(m.last_gate?.passed, false);
  assert.equal(snapshotTree(w.dir), before, "status wrote nothing, consumed no intent");
});

test("status table: one block per model, aligned columns, pin and in-flight lines", async (t) => {
  const w = await world(t);
  const run = await cli(["status", "m", ...w.flags]);
  assert.equal(run.code, 3);
  assert.match(
    run.out,
    /^MODEL m {2}stable=2 canary=1 {2}policy specific \[1, 2\] {2}TF Serving UNREACHABLE at 127\.0\.0\.1:1$/m,
  );
  assert.match(run.out, /^ {2}VERSION +DISK +ADMISSION +VERDICT +TF SERVING +CONFIG +NOTE$/m);
  assert.match(run.out, /^ {2}2 +2 +- +promoted +unreachable +listed,stable +stable resolves to 2$/m);
  assert.match(run.out, /^ {2}1 +1 +- +promoted +unreachable +listed,canary +earlier$/m);
  assert.match(run.out, /^ {2}3 +\(\.rejected-3-20261122T010000Z\) +- +rejected /m);
  assert.match(run.out, /^ {2}pin: 2 by cli:alice \(holiday freeze\)$/m);
  assert.match(run.out, /^ {2}in flight: load 4: specific \[1, 2, 4\] stable=2 \(in flight\) since /m);
  assert.match(run.out, /^ {2}pending intents: unpin by cli:bob$/m);
  assert.match(run.out, /^ {2}last gate: 3 FAILED at .*: output y has NaN$/m);
  const header = run.out.split("\n").find((l) => l.includes("VERSION"))!;
  const row = run.out.split("\n").find((l) => l.startsWith("  2 "))!;
  assert.equal(row.indexOf("promoted"), header.indexOf("VERDICT"), "columns line up");
});

test("status: unknown model is a usage error naming the known ones; a missing state dir is fine", async (t) => {
  const w = await world(t);
  const unknown = await cli(["status", "nope", ...w.flags]);
  assert.equal(unknown.code, 2);
  assert.match(unknown.err, /unknown model "nope"/);
  assert.match(unknown.err, /known models: m/);
  const missing = join(w.dir, "none");
  const fresh = await cli(["status", "--json", ...w.flags, `--state-dir=${missing}`]);
  assert.equal(fresh.code, 3);
  const m = parseJson<{ models: ModelStatus[] }>(fresh).models[0]!;
  assert.equal(m.versions.find((v) => v.version === "4")?.admission, "complete");
  assert.match(m.versions.find((v) => v.version === "5")?.admission_detail ?? "", /incomplete/);
  assert.equal(snapshotTree(missing), "missing", "no state dir is created");
});

test("table helpers: aligned columns, durations, times, clipping", () => {
  assert.equal(renderTable(["A", "BB"], [["xxx", "y"]], "  "), "  A    BB\n  xxx  y\n");
  assert.equal(formatDuration(850), "850ms");
  assert.equal(formatDuration(2500), "2.5s");
  assert.equal(formatDuration(90_000), "1m30s");
  assert.equal(formatDuration(7_200_000), "2h");
  assert.equal(formatTime(Date.UTC(2026, 10, 22, 1, 2, 3, 456)), "2026-11-22T01:02:03Z");
  assert.equal(formatTime(undefined), "-");
  assert.equal(clipText("a  b\nc", 10), "a b c");
  assert.equal(clipText("abcdefghijkl", 5), "abcd…");
});
