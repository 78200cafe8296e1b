import assert from "node:assert/strict";
import { test } from "node:test";
import { DEFAULT_BEHAVIOUR } from "../src/emulator/behaviour.js";
import { ModelManager, type StateEvent } from "../src/emulator/model-manager.js";
import { ServingError } from "../src/emulator/serving-api.js";
import type { LoadedVersion } from "../src/emulator/version-loader.js";
import { waitFor } from "./helpers/emulator-harness.js";

/** A manager whose loads are steered by the test: each load attempt waits for `finish(version, ok|error)`. */
function harness(options: { retries?: number; loadThreads?: number; tickMs?: number } = {}) {
  const attempts: string[] = [];
  /** The manager run in which each load attempt started. */
  const attemptRuns: number[] = [];
  const gates = new Map<string, Array<(result: ServingError | undefined) => void>>();
  const sleeps: number[] = [];
  const events: StateEvent[] = [];
  const manager = new ModelManager({
    load: (model, version, dir) => {
      attempts.push(version);
      attemptRuns.push(manager.runs);
      return new Promise<LoadedVersion>((resolve, reject) => {
        const queue = gates.get(version) ?? [];
        queue.push((error) =>
          error
            ? reject(error)
            : resolve({
                model,
                version,
                versionDir: dir,
                signatureDefs: {},
                behaviour: { ...DEFAULT_BEHAVIOUR },
                hasVariables: false,
                variablesRestored: true,
                uninitialized: false,
              }),
        );
        gates.set(version, queue);
      });
    },
    maxNumLoadRetries: options.retries ?? 0,
    loadRetryIntervalMs: 60_000,
    tickMs: options.tickMs ?? 5,
    ...(options.loadThreads === undefined ? {} : { numLoadThreads: options.loadThreads }),
    retrySleep: async (ms) => void sleeps.push(ms),
  });
  manager.onState((e) => events.push(e));
  manager.start();
  const finish = async (version: string, error?: ServingError): Promise<void> => {
    const gate = await waitFor(`a load attempt of ${version}`, () => gates.get(version)?.shift());
    gate(error);
  };
  const states = (model = "m") => (manager.status(model) ?? []).map((s) => `${s.version}:${s.state}`);
  const until = (what: string, expected: string[], model = "m") =>
    waitFor(what, () => JSON.stringify(states(model)) === JSON.stringify(expected));
  return { manager, attempts, attemptRuns, sleeps, events, finish, states, until };
}

const want = (...versions: string[]) => new Map(versions.map((v) => [v, `/models/m/${v}`]));

test("facts §4: a version goes START → LOADING → AVAILABLE and serves; status is descending", async () => {
  const h = harness();
  try {
    h.manager.setAspiredVersions("m", want("1"));
    await h.until("1 loading", ["1:LOADING"]);
    assert.equal(h.manager.servable("m"), undefined, "LOADING is not servable");
    await h.finish("1");
    await h.until("1 available", ["1:AVAILABLE"]);
    assert.deepEqual(
      h.events.map((e) => e.state),
      ["START", "LOADING", "AVAILABLE"],
    );
    assert.equal(h.manager.servable("m")?.version, "1");
    assert.equal(h.manager.servable("m", "1")?.version, "1");
  } finally {
    await h.manager.stop();
  }
});

test("facts §4: availability preserving — the new version loads before the old one unloads; END stays listed", async () => {
  const h = harness();
  try {
    h.manager.setAspiredVersions("m", want("1"));
    await h.finish("1");
    await h.until("1 available", ["1:AVAILABLE"]);
    h.manager.setAspiredVersions("m", want("2"));
    await h.until("2 loading while 1 serves", ["2:LOADING", "1:AVAILABLE"]);
    assert.equal(h.manager.servable("m")?.version, "1");
    await h.finish("2");
    await h.until("1 unloaded", ["2:AVAILABLE", "1:END"]);
    assert.equal(h.manager.status("m")?.[1]?.status.error_code, "OK");
  } finally {
    await h.manager.stop();
  }
});

test("facts §4: a failed new version ends with its error, is never retried while desired, and the old one keeps serving", async () => {
  const h = harness();
  try {
    h.manager.setAspiredVersions("m", want("1"));
    await h.finish("1");
    await h.until("1 available", ["1:AVAILABLE"]);
    h.manager.setAspiredVersions("m", want("2"));
    await h.finish("2", new ServingError("NOT_FOUND", "Could not find SavedModel .pb"));
    await h.until("2 failed", ["2:END", "1:AVAILABLE"]);
    const failed = h.manager.status("m")?.[0];
    assert.deepEqual(failed?.status, {
      error_code: "NOT_FOUND",
      error_message: "Could not find SavedModel .pb",
    });
    // Re-publishing the same desired set (every poll does) does not retry the failed number.
    h.manager.setAspiredVersions("m", want("2"));
    h.manager.setAspiredVersions("m", want("2"));
    await h.until("still failed", ["2:END", "1:AVAILABLE"]);
    assert.deepEqual(h.attempts, ["1", "2"]);
    assert.equal(h.manager.servable("m")?.version, "1");
    // A higher number clears it.
    h.manager.setAspiredVersions("m", want("3"));
    await h.finish("3");
    await h.until("3 replaced 1", ["3:AVAILABLE", "2:END", "1:END"]);
  } finally {
    await h.manager.stop();
  }
});

test("facts §3: load retries stay LOADING, wait the retry interval between attempts, then END with the last error", async () => {
  const h = harness({ retries: 2 });
  try {
    h.manager.setAspiredVersions("m", want("1"));
    await h.finish("1", new ServingError("OUT_OF_RANGE", "Read less bytes than requested"));
    await h.finish("1", new ServingError("OUT_OF_RANGE", "Read less bytes than requested"));
    assert.deepEqual(h.states(), ["1:LOADING"]);
    await h.finish("1", new ServingError("NOT_FOUND", "still missing"));
    await h.until("1 ended", ["1:END"]);
    assert.deepEqual(h.attempts, ["1", "1", "1"]);
    assert.deepEqual(h.sleeps, [60_000, 60_000]);
    assert.equal(h.manager.status("m")?.[0]?.status.error_message, "still missing");
  } finally {
    await h.manager.stop();
  }
});

test("facts §4: a retry that succeeds (copy finished meanwhile) makes the version AVAILABLE", async () => {
  const h = harness({ retries: 5 });
  try {
    h.manager.setAspiredVersions("m", want("1"));
    await h.finish("1", new ServingError("NOT_FOUND", "half copied"));
    await h.finish("1");
    await h.until("1 available", ["1:AVAILABLE"]);
    assert.equal(h.sleeps.length, 1);
  } finally {
    await h.manager.stop();
  }
});

test("facts §3: an empty desired list unloads every version of the model", async () => {
  const h = harness();
  try {
    h.manager.setAspiredVersions("m", want("1", "2"));
    await h.finish("2");
    await h.finish("1");
    await h.until("both available", ["2:AVAILABLE", "1:AVAILABLE"]);
    h.manager.setAspiredVersions("m", new Map());
    await h.until("all ended", ["2:END", "1:END"]);
    assert.equal(h.manager.servable("m"), undefined);
  } finally {
    await h.manager.stop();
  }
});

test("facts §4: re-desiring a version that is still held but no longer desired is parked until it has unloaded", async () => {
  const h = harness();
  try {
    h.manager.setAspiredVersions("m", want("1"));
    await h.finish("1");
    await h.until("1 available", ["1:AVAILABLE"]);
    h.manager.setAspiredVersions("m", want("2"));
    await h.until("2 loading", ["2:LOADING", "1:AVAILABLE"]);
    // Back to {1} while 1 is still loaded but not desired: the request waits.
    h.manager.setAspiredVersions("m", want("1"));
    await h.finish("2");
    // 2 became AVAILABLE, so the undesired 1 unloads; only then is the parked {1} applied: 1 loads again, 2 goes.
    await waitFor(
      "1 reloaded",
      () => h.events.filter((e) => e.version === "1" && e.state === "START").length === 2,
    );
    await h.finish("1");
    await h.until("back on 1", ["2:END", "1:AVAILABLE"]);
    assert.deepEqual(h.attempts, ["1", "2", "1"]);
  } finally {
    await h.manager.stop();
  }
});

test("facts §4 pitfall 8: deleting a failed newest version under latest parks {N-1}; N-1 keeps serving, N stays END", async () => {
  const h = harness();
  try {
    h.manager.setAspiredVersions("m", want("1"));
    await h.finish("1");
    await h.until("1 available", ["1:AVAILABLE"]);
    h.manager.setAspiredVersions("m", want("2"));
    await h.finish("2", new ServingError("NOT_FOUND", "bad"));
    await h.until("2 failed", ["2:END", "1:AVAILABLE"]);
    h.manager.setAspiredVersions("m", want("1"));
    // Give the manager many runs: nothing may change (1 is held un-desired, so {1} stays parked).
    const events = h.events.length;
    const runs = h.manager.runs;
    await waitFor("five more manager runs", () => h.manager.runs >= runs + 5);
    assert.equal(h.events.length, events);
    assert.deepEqual(h.states(), ["2:END", "1:AVAILABLE"]);
    assert.equal(h.manager.servable("m")?.version, "1");
  } finally {
    await h.manager.stop();
  }
});

test("facts §3: loads run in the manager loop (num_load_threads=0): a new desired list waits for a retrying load", async () => {
  const h = harness({ retries: 2 });
  try {
    h.manager.setAspiredVersions("m", want("1"));
    await h.finish("1", new ServingError("NOT_FOUND", "gone"));
    h.manager.setAspiredVersions("m", want("2"));
    await h.finish("1", new ServingError("NOT_FOUND", "gone"));
    assert.deepEqual(h.states(), ["1:LOADING"], "2 is not even START while 1 is retrying");
    await h.finish("1", new ServingError("NOT_FOUND", "gone"));
    await h.finish("2");
    await h.until("2 available", ["2:AVAILABLE", "1:END"]);
    assert.deepEqual(h.attempts, ["1", "1", "1", "2"]);
  } finally {
    await h.manager.stop();
  }
});

test("--num_load_threads=N: up to N loads run at once, the others wait in START for a free worker", async () => {
  const h = harness({ loadThreads: 2 });
  try {
    for (const model of ["a", "b", "c"]) h.manager.setAspiredVersions(model, want("1"));
    await waitFor("two loads running", () => h.attempts.length === 2);
    const running = new Set(h.attempts);
    assert.deepEqual(running, new Set(["1"]));
    const states = () => ["a", "b", "c"].map((m) => h.states(m)[0]).sort();
    assert.deepEqual(states(), ["1:LOADING", "1:LOADING", "1:START"], "the third waits for a worker");
    const runs = h.manager.runs;
    await waitFor("more manager runs", () => h.manager.runs >= runs + 3);
    assert.equal(h.attempts.length, 2, "a busy pool starts nothing more, however often the loop runs");
    await h.finish("1");
    await waitFor("the third load started", () => h.attempts.length === 3);
    await h.finish("1");
    await h.finish("1");
    await waitFor("all available", () => states().every((s) => s === "1:AVAILABLE"));
  } finally {
    await h.manager.stop();
  }
});

test("--num_load_threads=N: the manager loop keeps running during a load (a retrying load no longer blocks the others)", async () => {
  const h = harness({ loadThreads: 1, retries: 2 });
  try {
    h.manager.setAspiredVersions("a", want("1"));
    await h.finish("1", new ServingError("NOT_FOUND", "gone"));
    await h.until("a 1 still loading (retrying)", ["1:LOADING"], "a");
    // With loads in the loop (the default) b would not even be START while a retries; here the loop runs on.
    h.manager.setAspiredVersions("b", want("7"));
    await h.until("b 7 queued for the only worker", ["7:START"], "b");
    await h.finish("1");
    await h.finish("7");
    await h.until("b 7 available", ["7:AVAILABLE"], "b");
    await h.until("a 1 available", ["1:AVAILABLE"], "a");
  } finally {
    await h.manager.stop();
  }
});

test("--num_load_threads=N: one load starts per manager run, so three models' loads start in three runs", async () => {
  const h = harness({ loadThreads: 8, tickMs: 20 });
  try {
    for (const model of ["a", "b", "c"]) h.manager.setAspiredVersions(model, want("1"));
    await waitFor("three loads started", () => h.attempts.length === 3);
    assert.equal(new Set(h.attemptRuns).size, 3, `started in runs ${h.attemptRuns.join(", ")}`);
    for (let i = 0; i < 3; i++) await h.finish("1");
    await waitFor("all available", () => ["a", "b", "c"].every((m) => h.states(m)[0] === "1:AVAILABLE"));
  } finally {
    await h.manager.stop();
  }
});
