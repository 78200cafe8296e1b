// Numbers behind the golden and stable-diff checks: elementwise differences of two flat tensors, and top-k /
// argmax agreement of rows of class scores (rows = all axes but the last).
import type { TensorLike } from "./summary.js";

export interface ElementDiff {
  elements: number;
  maxAbsDiff: number;
  maxAbsIndex: number;
  /** Over elements whose reference is not 0. */
  maxRelDiff: number;
  maxRelIndex: number;
  /** Elements that differ and have no finite difference (NaN/±Infinity on one side, unequal strings, bools). */
  unequal: number;
  firstUnequal: number;
}

/** A comparable form: numbers as numbers, everything else as text. */
function plain(value: unknown): number | string {
  if (typeof value === "number") return value;
  if (typeof value === "bigint") return Number(value);
  if (Buffer.isBuffer(value)) return value.toString("utf8");
  if (typeof value === "object" && value !== null && "b64" in value)
    return Buffer.from(String((value as { b64: unknown }).b64), "base64").toString("utf8");
  return String(value);
}

export function diffElements(actual: readonly unknown[], reference: readonly unknown[]): ElementDiff {
  const diff: ElementDiff = {
    elements: Math.min(actual.length, reference.length),
    maxAbsDiff: 0,
    maxAbsIndex: -1,
    maxRelDiff: 0,
    maxRelIndex: -1,
    unequal: 0,
    firstUnequal: -1,
  };
  for (let i = 0; i < diff.elements; i++) {
    const [a, r] = [plain(actual[i]), plain(reference[i])];
    if (typeof a === "number" && typeof r === "number") {
      if (Object.is(a, r) || a === r || (Number.isNaN(a) && Number.isNaN(r))) continue;
      const abs = Math.abs(a - r);
      if (!Number.isFinite(abs)) {
        if (diff.unequal++ === 0) diff.firstUnequal = i;
        continue;
      }
      if (abs > diff.maxAbsDiff || diff.maxAbsIndex < 0) [diff.maxAbsDiff, diff.maxAbsIndex] = [abs, i];
      if (r !== 0 && abs / Math.abs(r) > diff.maxRelDiff)
        [diff.maxRelDiff, diff.maxRelIndex] = [abs / Math.abs(r), i];
    } else if (a !== r) {
      if (diff.unequal++ === 0) diff.firstUnequal = i;
    }
  }
  return diff;
}

/** Index of the first element with |actual − expected| > absolute + relative·|expected|, or −1. */
export function firstOutside(
  actual: readonly unknown[],
  expected: readonly unknown[],
  absolute: number,
  relative: number,
): number {
  for (let i = 0; i < expected.length; i++) {
    const [a, e] = [plain(actual[i]), plain(expected[i])];
    if (typeof a === "number" && typeof e === "number") {
      if (Number.isNaN(e) ? Number.isNaN(a) : a === e || Math.abs(a - e) <= absolute + relative * Math.abs(e))
        continue;
      return i;
    }
    if (a !== e) return i;
  }
  return -1;
}

/** Indices of the k largest values, largest first, ties to the lower index. */
export function topKIndices(values: readonly number[], k: number): number[] {
  return values
    .map((v, i) => [Number.isNaN(v) ? -Infinity : v, i] as const)
    .sort((x, y) => y[0] - x[0] || x[1] - y[1])
    .slice(0, k)
    .map(([, i]) => i);
}

export interface RowAgreement {
  rows: number;
  agreeing: number;
  /** The first row whose top-k sets differ, or −1. */
  firstDisagreeing: number;
}

/** Rows (all axes but the last) whose top-k index sets agree; argmax agreement is k = 1. */
export function topKAgreement(actual: TensorLike, reference: TensorLike, k: number): RowAgreement {
  const width = reference.shape.at(-1) ?? 1;
  const rows = width > 0 ? Math.floor(reference.values.length / width) : 0;
  const result: RowAgreement = { rows, agreeing: 0, firstDisagreeing: -1 };
  for (let row = 0; row < rows; row++) {
    const slice = (t: TensorLike): number[] =>
      t.values.slice(row * width, (row + 1) * width).map((v) => Number(plain(v)));
    const want = new Set(topKIndices(slice(reference), k));
    const got = topKIndices(slice(actual), k);
    if (got.length === want.size && got.every((i) => want.has(i))) result.agreeing++;
    else if (result.firstDisagreeing < 0) result.firstDisagreeing = row;
  }
  return result;
}

/** Row-major flat index → "[r, c]" for a shape. */
export function indexText(flat: number, shape: readonly number[]): string {
  const at: number[] = [];
  for (let axis = shape.length - 1; axis >= 0; axis--) {
    const dim = shape[axis]!;
    at.unshift(dim > 0 ? flat % dim : 0);
    flat = dim > 0 ? Math.floor(flat / dim) : 0;
  }
  return `[${at.join(", ")}]`;
}

export function sameShape(a: TensorLike, b: TensorLike): boolean {
  return a.shape.length === b.shape.length && a.shape.every((d, i) => d === b.shape[i]);
}
