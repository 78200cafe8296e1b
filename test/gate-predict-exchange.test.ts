// One exchange per transport with fake clients: the request addresses the version by number, replies are
// decoded per output (a bad one becomes an Error, not a crash), REST's bare-list and map forms both work.
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  grpcExchange,
  RestDeadlineError,
  restExchange,
  type ExchangeTarget,
} from "../src/gate/predict-exchange.js";
import type { PreparedRequest } from "../src/gate/prepared-request.js";
import { encodeTensor } from "../src/tensor/codec.js";
import { parseLenientJson } from "../src/tfserving/lenient-json.js";

let tick = 0;
const target: ExchangeTarget = {
  model: "m",
  version: "9223372036854775807",
  deadlineMs: 1234,
  clock: { now: () => (tick += 5) },
};
const request: PreparedRequest = {
  label: "synthesised",
  signature: "serving_default",
  inputs: { x: { dtype: "DT_INT64", shape: [2], values: [1n, 2n] } },
  batch: 2,
};

test("gRPC: ModelSpec.version (exact int64), the deadline, decoded outputs and the answering version", async () => {
  const sent: unknown[] = [];
  const exchange = await grpcExchange(
    {
      predict: async (req, options) => {
        sent.push(req, options);
        return {
          model_spec: { name: "m", version: { value: "9223372036854775807" } },
          outputs: {
            y: encodeTensor([0.5, 1], { dtype: "DT_FLOAT", shape: [2] }),
            broken: {
              dtype: "DT_FLOAT",
              tensor_shape: { dim: [{ size: "2" }] },
              tensor_content: Buffer.alloc(3),
            },
          },
        };
      },
    },
    target,
    request,
  );
  const [req, options] = sent as [Record<string, unknown>, unknown];
  assert.deepEqual(req.model_spec, {
    name: "m",
    version: { value: "9223372036854775807" },
    signature_name: "serving_default",
  });
  assert.deepEqual((req.inputs as Record<string, { int64_val: string[] }>).x?.int64_val, ["1", "2"]);
  assert.deepEqual(options, { deadlineMs: 1234 });
  assert.equal(exchange.replyVersion, "9223372036854775807");
  assert.equal(exchange.elapsedMs, 5);
  assert.deepEqual(exchange.outputs?.y, { dtype: "DT_FLOAT", shape: [2], values: [0.5, 1] });
  assert.match(String(exchange.outputs?.broken), /not a multiple of the 4-byte DT_FLOAT element/);
});

test("gRPC: a failed call is returned as the exchange's error, not thrown", async () => {
  const boom = new Error("boom");
  const exchange = await grpcExchange({ predict: () => Promise.reject(boom) }, target, request);
  assert.equal(exchange.error, boom);
  assert.equal(exchange.outputs, undefined);
});

test("REST: /versions/N with columnar inputs; a bare list is the single output, a map names each", async () => {
  const calls: unknown[][] = [];
  const rest = (body: string) => ({
    predict: async (...args: unknown[]) => {
      calls.push(args);
      return parseLenientJson(body) as { outputs: unknown };
    },
  });
  const single = await restExchange(rest('{"outputs": [[NaN], [2.5]]}'), target, request, ["y"]);
  assert.deepEqual(calls[0], [
    "m",
    { inputs: { x: [1n, 2n] } },
    { ref: { version: "9223372036854775807" }, signatureName: "serving_default" },
  ]);
  const y = single.outputs?.y;
  assert.ok(y && !(y instanceof Error));
  assert.deepEqual(y.shape, [2, 1]);
  assert.ok(Number.isNaN(y.values[0]), "a bare NaN token is a value, not a parse failure");

  const several = await restExchange(
    rest('{"outputs": {"a": [1, 2], "b": [[1], [2, 3]]}}'),
    target,
    request,
    ["a", "b"],
  );
  assert.deepEqual(several.outputs?.a, { shape: [2], values: [1, 2] });
  assert.ok(several.outputs?.b instanceof Error, "a ragged list cannot be a tensor");

  const scalarString = await restExchange(rest('{"outputs": {"b64": "eA=="}}'), target, request, ["s"]);
  assert.deepEqual(scalarString.outputs?.s, { shape: [], values: [{ b64: "eA==" }] });
});

test("REST: the gate's deadline bounds a call the REST client would still wait on", async () => {
  const exchange = await restExchange(
    { predict: () => new Promise(() => undefined) },
    { ...target, deadlineMs: 20 },
    request,
    ["y"],
  );
  assert.ok(exchange.error instanceof RestDeadlineError);
  assert.equal(exchange.error.message, "no REST answer within the 20 ms deadline");
});
