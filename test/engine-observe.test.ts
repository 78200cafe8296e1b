import assert from "node:assert/strict";
import { test } from "node:test";
import { GrpcCallError, GrpcUnreachableError } from "../src/tfserving/grpc-errors.js";
import {
  admissionSettled,
  diskVersions,
  observeStatus,
  observedModelConfig,
  settledVersions,
} from "../src/engine/observe.js";

const failure = { grpcMessage: "x", address: "127.0.0.1:1", method: "ModelService/GetModelStatus" };

test("GetModelStatus: NOT_FOUND is a reachable server with no versions; anything else is unreachable, with why", async () => {
  const notFound = {
    getModelStatus: async () =>
      Promise.reject(new GrpcCallError({ ...failure, grpcCode: 5, grpcCodeName: "NOT_FOUND" })),
  };
  assert.deepEqual(await observeStatus(notFound, "m"), { kind: "reachable", versions: [] });
  const down = {
    getModelStatus: async () =>
      Promise.reject(new GrpcUnreachableError({ ...failure, grpcCode: 14, grpcCodeName: "UNAVAILABLE" }, 3)),
  };
  const status = await observeStatus(down, "m");
  assert.equal(status.kind, "unreachable");
  assert.match((status as { reason: string }).reason, /UNAVAILABLE .*unreachable after 3 attempt/);
});

test("a models.config entry as the controller observes it: latest by default, labels as given", () => {
  assert.deepEqual(observedModelConfig({ name: "m", base_path: "/b", model_platform: "tensorflow" }), {
    basePath: "/b",
    platform: "tensorflow",
    policy: { kind: "latest", numVersions: 1 },
    labels: {},
  });
  assert.deepEqual(
    observedModelConfig({
      name: "m",
      base_path: "/b",
      model_version_policy: { specific: { versions: ["1", "2"] } },
      version_labels: { stable: "1" },
    })?.policy,
    { kind: "specific", versions: ["1", "2"] },
  );
  assert.equal(observedModelConfig(undefined), undefined);
});

test("disk versions keep the child's own name; only non-candidate verdicts are settled", () => {
  const scan = {
    model: "m",
    listing: { basePath: "/b", realBasePath: "/b", versions: [], duplicates: [], refused: [] },
    versions: [{ version: "7", admission: "complete" as const, path: "/b/007" }],
    pendingPaths: [],
    newlyOverdue: [],
  };
  assert.deepEqual(diskVersions(scan), [{ version: "7", dirName: "007", admission: "complete" }]);
  assert.deepEqual(
    [
      ...settledVersions({
        verdicts: {
          "1": { verdict: "promoted", reason: "", at: 0, by: "daemon" },
          "2": { verdict: "candidate", reason: "", at: 0, by: "daemon" },
        },
        progress: {},
      }),
    ],
    ["1"],
  );
});

test("admissionSettled: final verdicts and versions at or below stable are settled, unless an operator names them", () => {
  const record = {
    verdicts: {
      "9": { verdict: "rejected" as const, reason: "", at: 0, by: "daemon" },
      "12": { verdict: "candidate" as const, reason: "", at: 0, by: "daemon" },
    },
    progress: {},
    pin: { version: "3", by: "cli:ops", at: 0 },
  };
  const intents = [{ id: "i", by: "cli:ops", at: 0, kind: "rollback" as const, to: "4" }];
  const settled = admissionSettled(record, "10", intents);
  assert.deepEqual(
    ["1", "3", "4", "9", "10", "11", "12"].filter((v) => settled.has(v)),
    ["1", "9", "10"],
  );
  const noStable = admissionSettled(record, undefined, []);
  assert.deepEqual(
    ["1", "9", "12"].filter((v) => noStable.has(v)),
    ["9"],
  );
});
