import * as grpc from "@grpc/grpc-js";
import assert from "node:assert/strict";
import { test } from "node:test";
import { TfServingGrpcClient } from "../src/tfserving/grpc-client.js";
import { startGrpcTestServer } from "./helpers/grpc-test-server.js";

test("observers hear every attempt with its method, duration and gRPC status name; removal and throwing observers are safe", async (t) => {
  const server = await startGrpcTestServer({
    GetModelStatus: () => ({ model_version_status: [] }),
    GetModelMetadata: () => ({ error: { code: grpc.status.NOT_FOUND, details: "no such model" } }),
  });
  t.after(() => server.close());
  const fromOptions: string[] = [];
  const client = new TfServingGrpcClient({
    address: server.address,
    attempts: 1,
    onCall: (method, durationMs, code) => {
      assert.ok(durationMs >= 0);
      fromOptions.push(`${method} ${code}`);
    },
  });
  t.after(() => client.close());
  const added: string[] = [];
  const remove = client.observeCalls((method, _ms, code) => added.push(`${method} ${code}`));
  client.observeCalls(() => {
    throw new Error("a broken observer");
  });
  await client.getModelStatus("m");
  await assert.rejects(client.getModelMetadata("m"));
  remove();
  await client.getModelStatus("m");
  assert.deepEqual(fromOptions, [
    "ModelService/GetModelStatus OK",
    "PredictionService/GetModelMetadata NOT_FOUND",
    "ModelService/GetModelStatus OK",
  ]);
  assert.deepEqual(added, ["ModelService/GetModelStatus OK", "PredictionService/GetModelMetadata NOT_FOUND"]);
});

test("each retried attempt is observed: UNAVAILABLE attempts, then the answer", async (t) => {
  let calls = 0;
  const server = await startGrpcTestServer({
    GetModelStatus: () =>
      ++calls < 3
        ? { error: { code: grpc.status.UNAVAILABLE, details: "warming up" } }
        : { model_version_status: [] },
  });
  t.after(() => server.close());
  const seen: string[] = [];
  const client = new TfServingGrpcClient({
    address: server.address,
    attempts: 5,
    backoff: { initialMs: 1, maxMs: 2 },
    onCall: (_method, _ms, code) => seen.push(code),
  });
  t.after(() => client.close());
  await client.getModelStatus("m").catch(() => undefined);
  // Whether an UNAVAILABLE from a READY channel is retried is grpc-errors' decision; every attempt is observed.
  assert.equal(seen.length, calls);
  assert.equal(seen[0], "UNAVAILABLE");
});
