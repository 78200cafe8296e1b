// A failed gate or bake probe is inconclusive when a TF Serving listener it used was down (split outages: REST
// up while gRPC is down, or the reverse), and a real failure otherwise.
import assert from "node:assert/strict";
import { test } from "node:test";
import { UnreachableError } from "../src/errors.js";
import { isListenerOutage } from "../src/gate/exchange-error.js";
import type { GateCheck, GateResult } from "../src/gate/gate-result.js";
import { RestDeadlineError } from "../src/gate/predict-exchange.js";
import { listenerOutage, probeOutage, type ProbeListeners } from "../src/engine/listener-outage.js";
import { GrpcCallError, GrpcUnreachableError } from "../src/tfserving/grpc-errors.js";
import { TfServingHttpError } from "../src/tfserving/rest-client.js";

const failure = (grpcCodeName: string, grpcCode: number) => ({
  grpcCode,
  grpcCodeName,
  grpcMessage: "injected",
  address: "127.0.0.1:8500",
  method: "ModelService/GetModelStatus",
});
const grpcDown = () => new GrpcUnreachableError(failure("UNAVAILABLE", 14), 2);
const http = (status: number) =>
  new TfServingHttpError(status, "injected", "http://127.0.0.1:8501/v1/models/m", "GET", "{}");
const socketError = () =>
  new UnreachableError("cannot reach TF Serving's REST API (ECONNREFUSED)", {
    cause: new Error("fetch failed"),
  });
const timeout = () => {
  const cause = new Error("The operation was aborted due to timeout");
  cause.name = "TimeoutError";
  return new UnreachableError("TF Serving did not answer POST within 1000 ms", { cause });
};

test("isListenerOutage: unreachable gRPC, HTTP 503 and a refused or reset REST connection are outages", () => {
  assert.equal(isListenerOutage(grpcDown()), true);
  assert.equal(isListenerOutage(http(503)), true);
  assert.equal(isListenerOutage(socketError()), true);
});

test("isListenerOutage: what the version did (a status, a server error, a timeout) is not an outage", () => {
  assert.equal(isListenerOutage(new GrpcCallError(failure("INTERNAL", 13))), false);
  assert.equal(isListenerOutage(new GrpcCallError(failure("DEADLINE_EXCEEDED", 4))), false);
  assert.equal(isListenerOutage(http(500)), false);
  assert.equal(isListenerOutage(http(404)), false);
  assert.equal(isListenerOutage(timeout()), false);
  assert.equal(isListenerOutage(new RestDeadlineError(1000)), false);
  assert.equal(isListenerOutage(new Error("NaN in output")), false);
});

const up: ProbeListeners = {
  grpc: { getModelStatus: async () => [] },
  rest: { modelStatus: async () => [] },
};
const failing = (...checks: Partial<GateCheck>[]): GateResult => ({
  passed: false,
  durationMs: 1,
  checks: [
    { name: "predict over gRPC", passed: true, detail: "ok" },
    ...checks.map((c, i) => ({ name: `check ${i}`, passed: false, detail: "failed", ...c })),
  ],
});

test("listenerOutage: asks each listener the probe used about the model; either one down is an outage", async () => {
  assert.equal(await listenerOutage(up, "m"), undefined);
  const grpcUnreachable = await listenerOutage(
    { ...up, grpc: { getModelStatus: () => Promise.reject(grpcDown()) } },
    "m",
  );
  assert.match(grpcUnreachable ?? "", /^gRPC: .*UNAVAILABLE/);
  for (const error of [http(503), socketError()])
    assert.match(
      (await listenerOutage({ ...up, rest: { modelStatus: () => Promise.reject(error) } }, "m")) ?? "",
      /^REST: /,
    );
  // A model REST does not know (404), or a REST client not used by the probe, is no outage.
  assert.equal(
    await listenerOutage({ ...up, rest: { modelStatus: () => Promise.reject(http(404)) } }, "m"),
    undefined,
  );
  assert.equal(
    await listenerOutage({ grpc: up.grpc }, "m"),
    undefined,
    "REST is not asked when the probe did not use it",
  );
});

test("probeOutage: a gate failed only by Predicts that reached no listener is inconclusive, even once both answer", async () => {
  const reason = await probeOutage(
    up,
    "m",
    failing({ name: "predict over REST", unreachable: true, detail: "HTTP 503" }),
  );
  assert.equal(reason, "predict over REST: HTTP 503");
});

test("probeOutage: a real failure beside an outage decides (rejected), unless a listener is down right now", async () => {
  const mixed = failing({ unreachable: true }, { name: "NaN over gRPC", detail: "1 non-finite value" });
  assert.equal(await probeOutage(up, "m", mixed), undefined);
  const restDown = { ...up, rest: { modelStatus: () => Promise.reject(http(503)) } };
  assert.match((await probeOutage(restDown, "m", mixed)) ?? "", /^REST: /);
  assert.equal(await probeOutage(up, "m", failing({ detail: "NaN" })), undefined);
});
