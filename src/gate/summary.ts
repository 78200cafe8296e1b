// Short text forms of tensors and errors for logs and GateResult.failingExchange: never the payload itself.

export const SUMMARY_VALUES = 4;
const MAX_TEXT = 300;

export interface TensorLike {
  dtype?: string;
  shape: readonly number[];
  values: readonly unknown[];
}

function valueText(value: unknown): string {
  if (Buffer.isBuffer(value)) {
    const text = value.subarray(0, 16).toString("utf8");
    return JSON.stringify(value.length > 16 ? `${text}…` : text);
  }
  if (typeof value === "string") return JSON.stringify(value.length > 16 ? `${value.slice(0, 16)}…` : value);
  if (typeof value === "object" && value !== null) return clip(JSON.stringify(value), 24);
  return String(value);
}

/** `DT_FLOAT [2, 1]: 0.5, 1, … (2 values)`. */
export function summarizeTensor(tensor: TensorLike): string {
  const head = tensor.values.slice(0, SUMMARY_VALUES).map(valueText).join(", ");
  const more = tensor.values.length > SUMMARY_VALUES ? ", …" : "";
  return `${tensor.dtype ?? "json"} [${tensor.shape.join(", ")}]: ${head}${more} (${tensor.values.length} values)`;
}

export function summarizeTensors(tensors: Record<string, TensorLike>): Record<string, string> {
  return Object.fromEntries(Object.entries(tensors).map(([alias, t]) => [alias, summarizeTensor(t)]));
}

export function clip(text: string, max = MAX_TEXT): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

export function errorText(error: unknown): string {
  return clip(error instanceof Error ? error.message : String(error));
}
