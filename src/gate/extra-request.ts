// Per-model extra requests from the daemon config (passed in as data): inputs as nested values, optional dtype
// overrides, optional expected outputs compared within a tolerance.
import { UsageError } from "../errors.js";
import { decodeTensor, encodeTensor, type TensorValue } from "../tensor/codec.js";
import { flattenNested } from "../tensor/shape.js";
import type { GateSignature } from "./gate-signature.js";
import { batchOf, type PreparedRequest, type PreparedTensor } from "./prepared-request.js";
import type { TensorLike } from "./summary.js";

export interface Tolerance {
  /** |actual − expected| may be up to absolute + relative·|expected| (floating-point outputs only). */
  absolute?: number;
  relative?: number;
}

export interface ExtraRequest {
  /** Shown in check names; default "extra #<n>". */
  name?: string;
  /** Default serving_default. */
  signature?: string;
  /** alias → nested values, e.g. {"x": [[1.0], [2.0]]}; int64 may be given as decimal strings. */
  inputs: Record<string, unknown>;
  /** alias → DataType ("DT_INT64", "int64"), for inputs whose signature dtype is not the one to send. */
  dtypes?: Record<string, string>;
  /** alias → nested expected values; outputs not named here are only checked against the signature. */
  expected?: Record<string, unknown>;
  tolerance?: Tolerance;
}

/** float32-friendly defaults: exact answers and ones off in the 7th significant digit both pass. */
export const DEFAULT_TOLERANCE: Required<Tolerance> = { absolute: 1e-6, relative: 1e-6 };

export function extraRequestName(extra: ExtraRequest, index: number): string {
  return extra.name ?? `extra #${index + 1}`;
}

const isLeaf = (v: unknown): v is unknown => !Array.isArray(v);

/** The request to send, with values checked against the dtype; a UsageError names the request and input. */
export function prepareExtraRequest(
  extra: ExtraRequest,
  index: number,
  signature: GateSignature | undefined,
): PreparedRequest {
  const label = extraRequestName(extra, index);
  const signatureName = extra.signature ?? "serving_default";
  const where = `extra request "${label}"`;
  if (signature === undefined)
    throw new UsageError(`signature "${signatureName}" does not exist in the candidate`, {
      where,
      hint: "name one of the candidate's signatures in `signature`, or leave it out for serving_default",
    });
  const inputs: Record<string, PreparedTensor> = {};
  for (const [alias, nested] of Object.entries(extra.inputs)) {
    const dtype = extra.dtypes?.[alias] ?? signature.inputs[alias]?.dtype;
    if (dtype === undefined)
      throw new UsageError(`input "${alias}" is not in signature "${signatureName}"`, {
        where,
        hint: `the signature's inputs are: ${Object.keys(signature.inputs).join(", ") || "(none)"}`,
      });
    const inputWhere = `${where} input "${alias}"`;
    const { shape, values } = flattenNested(nested, isLeaf, inputWhere);
    const decoded = decodeTensor(encodeTensor(values, { dtype, shape, where: inputWhere }), inputWhere);
    inputs[alias] = { dtype: decoded.dtype, shape: decoded.shape, values: decoded.values };
  }
  return { label, signature: signatureName, inputs, batch: batchOf(inputs) };
}

function equalValue(actual: unknown, expected: unknown, tolerance: Required<Tolerance>): [boolean, number] {
  if (typeof actual === "number" && typeof expected === "number") {
    if (Number.isNaN(expected)) return [Number.isNaN(actual), 0];
    const diff = Math.abs(actual - expected);
    if (!Number.isFinite(expected)) return [actual === expected, actual === expected ? 0 : Infinity];
    return [diff <= tolerance.absolute + tolerance.relative * Math.abs(expected), diff];
  }
  if (typeof actual === "bigint" || typeof expected === "bigint") {
    try {
      return [BigInt(actual as never) === BigInt(expected as never), 0];
    } catch {
      return [false, 0];
    }
  }
  if (Buffer.isBuffer(actual)) return [actual.toString("utf8") === String(expected), 0];
  if (typeof actual === "number" && typeof expected === "string") return [String(actual) === expected, 0];
  return [actual === expected, 0];
}

export interface ExpectedComparison {
  problems: string[];
  compared: number;
  maxAbsDiff: number;
}

/** Compares each expected output with the reply (shape exactly, values within the tolerance). */
export function compareExpected(
  expected: Record<string, unknown>,
  observed: Record<string, TensorLike | Error>,
  tolerance: Tolerance = {},
): ExpectedComparison {
  const within: Required<Tolerance> = { ...DEFAULT_TOLERANCE, ...tolerance };
  const problems: string[] = [];
  let compared = 0;
  let maxAbsDiff = 0;
  for (const [alias, nested] of Object.entries(expected)) {
    const tensor = observed[alias];
    if (tensor === undefined || tensor instanceof Error) {
      problems.push(`expected output "${alias}" is not in the reply`);
      continue;
    }
    const want = flattenNested(nested, isLeaf, `expected output "${alias}"`);
    if (want.shape.join(",") !== tensor.shape.join(",")) {
      problems.push(
        `output "${alias}" has shape [${tensor.shape.join(", ")}]; expected [${want.shape.join(", ")}]`,
      );
      continue;
    }
    let firstBad: number | undefined;
    want.values.forEach((value, i) => {
      const [ok, diff] = equalValue(tensor.values[i] as TensorValue, value, within);
      compared++;
      if (Number.isFinite(diff)) maxAbsDiff = Math.max(maxAbsDiff, diff);
      if (!ok && firstBad === undefined) firstBad = i;
    });
    if (firstBad !== undefined) {
      const [actual, wanted] = [tensor.values[firstBad], want.values[firstBad]];
      const numeric = typeof actual === "number" && typeof wanted === "number";
      const tolerated = numeric
        ? ` (tolerance: absolute ${within.absolute}, relative ${within.relative})`
        : "";
      problems.push(
        `output "${alias}" value ${firstBad} is ${String(actual)}, expected ${String(wanted)}${tolerated}`,
      );
    }
  }
  return { problems, compared, maxAbsDiff };
}
