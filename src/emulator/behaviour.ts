// How the emulator computes outputs. Real graphs cannot run here, so every model behaves like half_plus_two:
// each output is `scale * x + offset` (default 0.5 and 2), elementwise, in the output's dtype and the fed input's
// shape. That gives TF Serving's real test models their real answers (facts §5 reference outputs).
//
// Which input is x:
// - no inputs (e.g. the counter model's get_counter): x is the scalar 0, so every output is the scalar `offset`;
// - one or several inputs: the input whose alias sorts first feeds every output (others are only validated);
// - a DT_STRING input holds serialized tf.Examples (the classify/regress signatures): x per example is the first
//   value of its first numeric feature (features sorted by name), and the output shape is [examples, 1].
//
// Per-version overrides come from the emulator-only file `<version dir>/assets.extra/emulator.json`:
//   {
//     "scale": 0.5, "offset": 2,                  // other coefficients
//     "nan_outputs": true,                        // every floating-point output element is NaN
//     "output_shape": [1],                        // outputs get this (wrong) shape; values repeat to fill it
//     "predict_error": {"code": "INTERNAL", "message": "boom"},  // every Predict fails with this status
//     "latency_ms": 250,                          // added to every Predict
//     "load_error": {"code": "NOT_FOUND", "message": "..."},     // the version fails to load with this status
//     "load_delay_ms": 1000,                      // loading takes this much longer
//     "degrade_when_file": "DEGRADED"             // while <version dir>/DEGRADED exists, every Predict fails
//   }                                             //   (predict_error, or INTERNAL): a version going bad in service
// All keys are optional; unknown keys are an error (a typo must not silently do nothing).

import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { z } from "zod";
import { UsageError } from "../errors.js";
import { messageType } from "../proto/registry.js";
import { decodeTensor, encodeTensor, type DecodedTensor, type TensorProtoObject } from "../tensor/codec.js";
import { baseDType, dtypeOf } from "../tensor/dtypes.js";
import type { TensorValue } from "../tensor/elements.js";
import { ERROR_CODE_NAMES, type StatusFault } from "./faults.js";
import { ServingError, type SignatureDefPlain } from "./serving-api.js";

export const BEHAVIOUR_FILE = join("assets.extra", "emulator.json");

export interface Behaviour {
  scale: number;
  offset: number;
  nanOutputs: boolean;
  outputShape?: number[];
  predictError?: StatusFault;
  latencyMs: number;
  loadError?: StatusFault;
  loadDelayMs: number;
  /** Absolute path: while this file exists every Predict fails (a loaded version degrading later). */
  degradeWhenFile?: string;
  /** The emulator.json it came from; absent for the default behaviour. */
  source?: string;
}

export const DEFAULT_BEHAVIOUR: Readonly<Behaviour> = Object.freeze({
  scale: 0.5,
  offset: 2,
  nanOutputs: false,
  latencyMs: 0,
  loadDelayMs: 0,
});

const statusSchema = z.strictObject({
  code: z.enum(ERROR_CODE_NAMES, {
    error: `must be a tensorflow.error.Code name other than OK: ${ERROR_CODE_NAMES.join(", ")}`,
  }),
  message: z.string(),
});

const millis = z.number().finite().nonnegative();

const behaviourFileSchema = z.strictObject({
  scale: z.number().finite().optional(),
  offset: z.number().finite().optional(),
  nan_outputs: z.boolean().optional(),
  output_shape: z.array(z.number().int().nonnegative()).optional(),
  predict_error: statusSchema.optional(),
  latency_ms: millis.optional(),
  load_error: statusSchema.optional(),
  load_delay_ms: millis.optional(),
  degrade_when_file: z
    .string()
    .regex(/^[^/\\]+$/, { message: "must be a plain file name inside the version directory" })
    .optional(),
});

/** Parses emulator.json text; `where` names the file in errors. */
export function parseBehaviour(text: string, where: string): Behaviour {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new UsageError(`${BEHAVIOUR_FILE} is not valid JSON: ${(error as Error).message}`, {
      where,
      hint: 'write a JSON object such as {"scale": 0.5, "offset": 2}',
    });
  }
  const parsed = behaviourFileSchema.safeParse(json);
  if (!parsed.success) {
    const problems = parsed.error.issues.map(
      (issue) => `${issue.path.length ? issue.path.join(".") : "(top level)"}: ${issue.message}`,
    );
    throw new UsageError(`invalid emulator behaviour file: ${problems.join("; ")}`, {
      where,
      hint: "allowed keys: scale, offset, nan_outputs, output_shape, predict_error {code, message}, latency_ms, load_error {code, message}, load_delay_ms, degrade_when_file",
    });
  }
  const file = parsed.data;
  const behaviour: Behaviour = {
    scale: file.scale ?? DEFAULT_BEHAVIOUR.scale,
    offset: file.offset ?? DEFAULT_BEHAVIOUR.offset,
    nanOutputs: file.nan_outputs ?? false,
    latencyMs: file.latency_ms ?? 0,
    loadDelayMs: file.load_delay_ms ?? 0,
    source: where,
  };
  if (file.output_shape) behaviour.outputShape = file.output_shape;
  if (file.predict_error) behaviour.predictError = file.predict_error;
  if (file.load_error) behaviour.loadError = file.load_error;
  // `where` is <version dir>/assets.extra/emulator.json.
  if (file.degrade_when_file)
    behaviour.degradeWhenFile = join(dirname(dirname(where)), file.degrade_when_file);
  return behaviour;
}

/** The behaviour of one version directory: its assets.extra/emulator.json, or the default when absent. */
export function readBehaviour(versionDir: string): Behaviour {
  const path = join(versionDir, BEHAVIOUR_FILE);
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return { ...DEFAULT_BEHAVIOUR };
    throw new UsageError(`cannot read ${BEHAVIOUR_FILE}: ${(error as Error).message}`, {
      where: path,
      hint: "make the file readable or remove it",
    });
  }
  return parseBehaviour(text, path);
}

const PREDICT_METHODS = [
  "tensorflow/serving/predict",
  "tensorflow/serving/classify",
  "tensorflow/serving/regress",
];

function sortedKeys(map: Record<string, unknown>): string[] {
  return Object.keys(map).sort();
}

/** TF Serving's PreProcessPrediction checks (predict_util.cc), with its exact messages; returns output aliases. */
export function checkPredictRequest(
  signature: SignatureDefPlain,
  inputs: Record<string, unknown>,
  outputFilter: readonly string[] | undefined,
): string[] {
  if (!PREDICT_METHODS.includes(signature.method_name))
    throw new ServingError(
      "INTERNAL",
      `Expected prediction signature method_name to be one of {${PREDICT_METHODS.join(", ")}}. Was: ${signature.method_name}`,
    );
  const sent = sortedKeys(inputs);
  const wanted = sortedKeys(signature.inputs);
  if (sent.length !== wanted.length) {
    const extra = sent.filter((alias) => !(alias in signature.inputs));
    const missing = wanted.filter((alias) => !(alias in inputs));
    throw new ServingError(
      "INVALID_ARGUMENT",
      `input size does not match signature: ${sent.length}!=${wanted.length} len({${sent.join(",")}}) != len({${wanted.join(",")}}). Sent extra: {${extra.join(",")}}. Missing but required: {${missing.join(",")}}.`,
    );
  }
  for (const alias of sent)
    if (!(alias in signature.inputs))
      throw new ServingError(
        "INVALID_ARGUMENT",
        `input tensor alias not found in signature: ${alias}. Inputs expected to be in the set {${wanted.join(",")}}.`,
      );
  const seen = new Set<string>();
  for (const alias of outputFilter ?? []) {
    if (!(alias in signature.outputs))
      throw new ServingError(
        "INVALID_ARGUMENT",
        `output tensor alias not found in signature: ${alias} Outputs expected to be in the set {${sortedKeys(signature.outputs).join(",")}}.`,
      );
    if (seen.has(alias))
      throw new ServingError("INVALID_ARGUMENT", `duplicate output tensor alias: ${alias}`);
    seen.add(alias);
  }
  return outputFilter?.length ? [...outputFilter] : Object.keys(signature.outputs);
}

function shortName(dtype: string): string {
  return dtype.replace(/^DT_/, "").toLowerCase();
}

/** x as numbers with its shape, from the fed tensor (see the header for the rules). */
function numericInput(alias: string, tensor: DecodedTensor): { shape: number[]; xs: number[] } {
  if (tensor.dtype !== "DT_STRING")
    return {
      shape: tensor.shape,
      xs: tensor.values.map((v) => (typeof v === "boolean" ? (v ? 1 : 0) : Number(v as number | bigint))),
    };
  const example = messageType("tensorflow.Example");
  const xs = tensor.values.map((value, index) => {
    let features: Record<string, Record<string, { value?: unknown[] }>>;
    try {
      const decoded = example.toObject(example.decode(value as Buffer), { longs: String }) as {
        features?: { feature?: typeof features };
      };
      features = decoded.features?.feature ?? {};
    } catch {
      throw new ServingError(
        "INVALID_ARGUMENT",
        `Could not parse example input, value: '${(value as Buffer).toString("latin1")}'`,
      );
    }
    for (const name of sortedKeys(features)) {
      const feature = features[name]!;
      const list = feature.float_list?.value ?? feature.int64_list?.value;
      if (list?.length) return Number(list[0]);
    }
    throw new ServingError(
      "INVALID_ARGUMENT",
      `emulator: example ${index} of input ${alias} has no float_list or int64_list feature to compute from`,
    );
  });
  return { shape: [xs.length, 1], xs };
}

function toDType(dtype: string, y: number): TensorValue {
  switch (dtype) {
    case "DT_FLOAT":
    case "DT_DOUBLE":
    case "DT_HALF":
    case "DT_BFLOAT16":
      return y;
    case "DT_INT64":
    case "DT_UINT64":
      return Number.isFinite(y) ? BigInt(Math.trunc(y)) : 0n;
    case "DT_BOOL":
      return y !== 0;
    case "DT_STRING":
      return Buffer.from(String(y));
    default:
      return Number.isFinite(y) ? Math.trunc(y) : 0;
  }
}

const FLOATING = new Set(["DT_FLOAT", "DT_DOUBLE", "DT_HALF", "DT_BFLOAT16"]);

function wrapInteger(dtype: string, value: TensorValue): TensorValue {
  const bits: Record<string, [number, boolean]> = {
    DT_INT8: [8, true],
    DT_UINT8: [8, false],
    DT_INT16: [16, true],
    DT_UINT16: [16, false],
    DT_INT32: [32, true],
    DT_UINT32: [32, false],
    DT_INT64: [64, true],
    DT_UINT64: [64, false],
  };
  const spec = bits[dtype];
  if (!spec) return value;
  const [width, signed] = spec;
  const big = typeof value === "bigint" ? value : BigInt(value as number);
  const wrapped = signed ? BigInt.asIntN(width, big) : BigInt.asUintN(width, big);
  return width === 64 ? wrapped : Number(wrapped);
}

/**
 * Outputs of one Predict, in canonical TensorProto form (typed `*_val` fields, like TF Serving's replies).
 * Throws ServingError with TF Serving's messages for requests its PreProcessPrediction would reject.
 * Does not apply latency or predict_error (see `runPredict`).
 */
export function computeOutputs(
  behaviour: Behaviour,
  signature: SignatureDefPlain,
  inputs: Record<string, DecodedTensor>,
  outputFilter?: readonly string[],
): Record<string, TensorProtoObject> {
  const aliases = checkPredictRequest(signature, inputs, outputFilter);
  sortedKeys(inputs).forEach((alias, index) => {
    const declared = signature.inputs[alias]!.dtype;
    if (!declared) return;
    const want = baseDType(dtypeOf(declared)).name;
    if (inputs[alias]!.dtype !== want)
      throw new ServingError(
        "INVALID_ARGUMENT",
        `Expects arg[${index}] to be ${shortName(want)} but ${shortName(inputs[alias]!.dtype)} is provided`,
      );
  });
  const first = sortedKeys(inputs)[0];
  const { shape: inputShape, xs } =
    first === undefined ? { shape: [], xs: [0] } : numericInput(first, inputs[first]!);
  const shape = behaviour.outputShape ?? inputShape;
  const count = shape.reduce((n, d) => n * d, 1);
  const outputs: Record<string, TensorProtoObject> = {};
  for (const alias of aliases) {
    const info = signature.outputs[alias]!;
    const dtype = baseDType(dtypeOf(info.dtype || "DT_FLOAT")).name;
    const values: TensorValue[] = [];
    for (let i = 0; i < count; i++) {
      const x = xs.length ? xs[i % xs.length]! : 0;
      const y = behaviour.nanOutputs && FLOATING.has(dtype) ? NaN : behaviour.scale * x + behaviour.offset;
      values.push(wrapInteger(dtype, toDType(dtype, y)));
    }
    try {
      outputs[alias] = encodeTensor(values, { dtype, shape, where: `emulator output ${alias}` });
    } catch (error) {
      throw new ServingError(
        "UNIMPLEMENTED",
        `emulator: cannot compute output ${alias} of dtype ${dtype}: ${(error as Error).message}`,
      );
    }
  }
  return outputs;
}

/** Decodes request TensorProtos for `computeOutputs`; a tensor TF could not parse is INVALID_ARGUMENT. */
export function decodeInputs(inputs: Record<string, TensorProtoObject>): Record<string, DecodedTensor> {
  const decoded: Record<string, DecodedTensor> = {};
  for (const [alias, proto] of Object.entries(inputs)) {
    try {
      decoded[alias] = decodeTensor(proto, `input ${alias}`);
    } catch {
      throw new ServingError("INVALID_ARGUMENT", `tensor parsing error: ${alias}`);
    }
  }
  return decoded;
}

const realSleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * One Predict as the behaviour dictates: waits `latencyMs`, fails with `predictError` when set, else computes
 * the outputs. For the core's Predict handler (gRPC and, through ServingApi.predict, REST).
 */
export async function runPredict(
  behaviour: Behaviour,
  signature: SignatureDefPlain,
  inputs: Record<string, TensorProtoObject>,
  outputFilter?: readonly string[],
  sleep: (ms: number) => Promise<void> = realSleep,
): Promise<Record<string, TensorProtoObject>> {
  checkPredictRequest(signature, inputs, outputFilter);
  const decoded = decodeInputs(inputs);
  // Like a graph error, the injected one comes after TF Serving's request checks.
  if (behaviour.latencyMs > 0) await sleep(behaviour.latencyMs);
  if (behaviour.predictError)
    throw new ServingError(behaviour.predictError.code, behaviour.predictError.message);
  if (behaviour.degradeWhenFile !== undefined && existsSync(behaviour.degradeWhenFile))
    throw new ServingError("INTERNAL", `emulator: degraded (${behaviour.degradeWhenFile} exists)`);
  return computeOutputs(behaviour, signature, decoded, outputFilter);
}
