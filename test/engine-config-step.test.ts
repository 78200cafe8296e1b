import assert from "node:assert/strict";
import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import type { ConfigStep, ObservedModelConfig } from "../src/controller/types.js";
import { applyConfigStep } from "../src/engine/config-step.js";
import { CHANGED_UNDERNEATH_ATTEMPTS, ChangedUnderneathError } from "../src/modelconfig/file-stamp.js";
import type { VersionStatus } from "../src/tfserving/model-status.js";
import { tempDir } from "./helpers/version-dir.js";

const COMMENT = "# keep me";

function setup(t: { after(fn: () => void): void }, available: string[]) {
  const root = tempDir(t, "engine-config-step-");
  const base = join(root, "m");
  for (const v of ["1", "2"]) mkdirSync(join(base, v), { recursive: true });
  const path = join(root, "models.config");
  writeFileSync(
    path,
    `${COMMENT}\nmodel_config_list {\n  config {\n    name: "m"\n    base_path: "${base}"\n    model_platform: "tensorflow"\n    model_version_policy { specific { versions: 1 } }\n    version_labels { key: "stable" value: 1 }\n  }\n}\n`,
  );
  const reloads: unknown[] = [];
  const grpc = {
    getModelStatus: async (): Promise<VersionStatus[]> =>
      available.map((version) => ({ version, state: "AVAILABLE", error_code: "OK", error_message: "" })),
    reloadConfig: async (config: Record<string, unknown>) => {
      reloads.push(config);
      return {};
    },
  };
  const deps = {
    modelConfigPath: path,
    grpc,
    locks: { withConfigLock: <T>(fn: () => Promise<T>) => fn() },
    stableLabel: "stable",
  };
  const observed: ObservedModelConfig = {
    basePath: base,
    platform: "tensorflow",
    policy: { kind: "specific", versions: ["1"] },
    labels: { stable: "1" },
  };
  return { path, deps, reloads, observed };
}

const load: ConfigStep = {
  kind: "load",
  model: "m",
  config: { specific: ["1", "2"], labels: { stable: "1" } },
  version: "2",
};

test("writes exactly the step's policy, keeps comments, reloads with the message parsed from the written bytes", async (t) => {
  const { path, deps, reloads, observed } = setup(t, ["1"]);
  const outcome = await applyConfigStep(deps, load, { observed, readmitted: [] });
  assert.equal(outcome.ok, true, outcome.reason);
  const text = readFileSync(path, "utf8");
  assert.ok(text.startsWith(COMMENT));
  assert.match(text, /versions: 1\s+versions: 2/);
  assert.equal(reloads.length, 1);
  const sent = reloads[0] as { model_config_list: { config: { model_version_policy: unknown }[] } };
  assert.deepEqual(sent.model_config_list.config[0]!.model_version_policy, {
    specific: { versions: ["1", "2"] },
  });
});

test("a file that already holds the policy is not rewritten, but the reload is sent (resumed step)", async (t) => {
  const { path, deps, reloads, observed } = setup(t, ["1"]);
  await applyConfigStep(deps, load, { observed, readmitted: [] });
  const before = readFileSync(path, "utf8");
  const resumed = await applyConfigStep(deps, load, {
    observed: { ...observed, policy: { kind: "specific", versions: ["1", "2"] } },
    readmitted: [],
  });
  assert.equal(resumed.ok, true);
  assert.match(resumed.reason, /already held/);
  assert.equal(readFileSync(path, "utf8"), before);
  assert.equal(reloads.length, 2);
});

test("an operator's edit since observation is never overwritten: no write, no reload", async (t) => {
  const { path, deps, reloads, observed } = setup(t, ["1"]);
  const edited = readFileSync(path, "utf8").replace("versions: 1 }", "versions: 1 versions: 2 }");
  writeFileSync(path, edited);
  const outcome = await applyConfigStep(deps, load, { observed, readmitted: [] });
  assert.equal(outcome.ok, false);
  assert.equal(outcome.written, false);
  assert.match(outcome.reason, /changed since it was read/);
  assert.equal(readFileSync(path, "utf8"), edited);
  assert.equal(reloads.length, 0);
});

test("a config TF Serving would refuse (label on a version not AVAILABLE) is neither written nor sent", async (t) => {
  const { path, deps, reloads, observed } = setup(t, ["1"]);
  const before = readFileSync(path, "utf8");
  const promote: ConfigStep = {
    kind: "promote",
    model: "m",
    config: { specific: ["1", "2"], labels: { stable: "2" } },
    version: "2",
    from: "1",
  };
  const outcome = await applyConfigStep(deps, promote, { observed, readmitted: [] });
  assert.equal(outcome.ok, false);
  assert.match(outcome.reason, /not currently available for inference/);
  assert.equal(readFileSync(path, "utf8"), before);
  assert.equal(reloads.length, 0);
});

test("a failed reload after the write says the file was written", async (t) => {
  const { deps, observed } = setup(t, ["1"]);
  const failing = {
    ...deps,
    grpc: {
      ...deps.grpc,
      reloadConfig: async () => {
        throw new Error("UNAVAILABLE: connection refused");
      },
    },
  };
  const outcome = await applyConfigStep(failing, load, { observed, readmitted: [] });
  assert.equal(outcome.ok, false);
  assert.equal(outcome.written, true);
  assert.match(outcome.reason, /reload failed: UNAVAILABLE/);
});

/**
 * `deps` whose status calls (the safety check, after the re-read) first let an operator save models.config the way
 * an editor does, without the daemon's lock (temp file, rename), `saves` times in all.
 */
function racingOperator(setupResult: ReturnType<typeof setup>, saves: number) {
  const { path, deps } = setupResult;
  let edits = 0;
  const racing = {
    ...deps,
    grpc: {
      ...deps.grpc,
      getModelStatus: async () => {
        if (edits < saves) {
          writeFileSync(`${path}.op`, `${readFileSync(path, "utf8")}# operator edit ${++edits}\n`);
          renameSync(`${path}.op`, path);
        }
        return deps.grpc.getModelStatus();
      },
    },
  };
  return { racing, edits: () => edits };
}

test("an operator's edit renamed in between the re-read and the write is kept: the step starts over from it", async (t) => {
  const world = setup(t, ["1"]);
  const { racing } = racingOperator(world, 1);
  const outcome = await applyConfigStep(racing, load, { observed: world.observed, readmitted: [] });
  assert.equal(outcome.ok, true, outcome.reason);
  const text = readFileSync(world.path, "utf8");
  assert.match(text, /# operator edit 1\n/);
  assert.match(text, /versions: 1\s+versions: 2/);
  assert.equal(world.reloads.length, 1);
});

test("a file that keeps changing under every attempt is never overwritten; the step fails after the bounded retries", async (t) => {
  const world = setup(t, ["1"]);
  const { racing, edits } = racingOperator(world, Infinity);
  await assert.rejects(
    applyConfigStep(racing, load, { observed: world.observed, readmitted: [] }),
    ChangedUnderneathError,
  );
  const text = readFileSync(world.path, "utf8");
  assert.equal(edits(), CHANGED_UNDERNEATH_ATTEMPTS);
  for (let i = 1; i <= edits(); i++) assert.match(text, new RegExp(`# operator edit ${i}\\n`));
  assert.doesNotMatch(text, /versions: 2/);
  assert.equal(world.reloads.length, 0);
});
