// Whether a Predict reply keeps the signature's promises: every declared output present, of its dtype, with a
// shape consistent with the declaration (known dims equal, unknown dims any, the batch dim equal to the
// request's), and every floating-point value finite. Transport-neutral: gRPC replies arrive decoded with their
// dtype; REST replies arrive as JSON, whose values are checked for the kind of value the dtype allows.
import type { TensorSpec } from "./gate-signature.js";
import type { TensorLike } from "./summary.js";

export interface OutputCheck {
  /** Empty when the reply keeps every promise. */
  problems: string[];
  nonFinite: number;
  outputsChecked: number;
}

const FLOATS = new Set(["DT_FLOAT", "DT_DOUBLE", "DT_HALF", "DT_BFLOAT16"]);
const INTEGERS = new Set([
  "DT_INT8",
  "DT_UINT8",
  "DT_INT16",
  "DT_UINT16",
  "DT_INT32",
  "DT_UINT32",
  "DT_INT64",
  "DT_UINT64",
]);

export function shapeProblem(
  alias: string,
  declared: readonly number[] | null,
  actual: readonly number[],
  batch: number | undefined,
): string | undefined {
  const shown = `[${actual.join(", ")}]`;
  if (declared === null) return undefined;
  if (declared.length !== actual.length)
    return `output "${alias}" has shape ${shown}, rank ${actual.length}; the signature declares rank ${declared.length} [${declared.join(", ")}]`;
  for (let axis = 0; axis < declared.length; axis++) {
    const want = declared[axis]!;
    if (want >= 0 && actual[axis] !== want)
      return `output "${alias}" has shape ${shown}; the signature declares dimension ${axis} as ${want}`;
  }
  if (batch !== undefined && declared.length > 0 && declared[0]! < 0 && actual[0] !== batch)
    return `output "${alias}" has batch dimension ${actual[0]} (shape ${shown}); the request's batch is ${batch}`;
  return undefined;
}

/** Whether a JSON value (REST) can be a `dtype` element; NaN/±Infinity count as numbers here. */
function jsonKindFits(dtype: string, value: unknown): boolean {
  if (FLOATS.has(dtype)) return typeof value === "number";
  if (INTEGERS.has(dtype))
    return typeof value === "bigint" || (typeof value === "number" && Number.isInteger(value));
  if (dtype === "DT_BOOL") return typeof value === "boolean";
  if (dtype === "DT_STRING")
    return typeof value === "string" || (typeof value === "object" && value !== null && "b64" in value);
  return true;
}

/**
 * Checks every declared output. `observed[alias]` is the decoded tensor, or the Error that stopped decoding it.
 * For REST replies `dtype` is absent and the JSON value kinds are checked instead.
 */
export function checkOutputs(
  declared: Record<string, TensorSpec>,
  observed: Record<string, TensorLike | Error>,
  batch: number | undefined,
): OutputCheck {
  const problems: string[] = [];
  let nonFinite = 0;
  let outputsChecked = 0;
  for (const [alias, spec] of Object.entries(declared).sort(([a], [b]) => a.localeCompare(b))) {
    const tensor = observed[alias];
    if (tensor === undefined) {
      problems.push(`declared output "${alias}" is missing from the reply`);
      continue;
    }
    if (tensor instanceof Error) {
      problems.push(`output "${alias}" cannot be decoded: ${tensor.message}`);
      continue;
    }
    outputsChecked++;
    if (tensor.dtype !== undefined && tensor.dtype !== spec.dtype)
      problems.push(`output "${alias}" has dtype ${tensor.dtype}; the signature declares ${spec.dtype}`);
    if (tensor.dtype === undefined) {
      const misfit = tensor.values.findIndex((v) => !jsonKindFits(spec.dtype, v));
      if (misfit >= 0)
        problems.push(
          `output "${alias}" value ${misfit} is ${JSON.stringify(String(tensor.values[misfit]))}, not a ${spec.dtype} value`,
        );
    }
    const shape = shapeProblem(alias, spec.shape, tensor.shape, batch);
    if (shape) problems.push(shape);
    if (FLOATS.has(spec.dtype)) {
      const bad = tensor.values.filter((v) => typeof v === "number" && !Number.isFinite(v));
      if (bad.length > 0) {
        nonFinite += bad.length;
        const first = tensor.values.findIndex((v) => typeof v === "number" && !Number.isFinite(v));
        problems.push(
          `output "${alias}" has ${bad.length} non-finite value(s) of ${tensor.values.length} (first: ${String(bad[0])} at index ${first})`,
        );
      }
    }
  }
  return { problems, nonFinite, outputsChecked };
}
