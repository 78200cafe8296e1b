import { UsageError } from "../errors.js";

/** Nested JS arrays of scalars, as written in JSON: `[[1, 2], [3, 4]]` is shape [2, 2]. */
export type Nested<T> = T | Nested<T>[];

/** Largest element count accepted; beyond it a tensor cannot be held in JS arrays anyway. */
export const MAX_ELEMENTS = 2 ** 31 - 1;

/** Product of the dims, with clear errors for negative (unknown) dims and absurd sizes. */
export function elementCount(shape: readonly number[], where?: string): number {
  let count = 1;
  shape.forEach((dim, axis) => {
    if (!Number.isSafeInteger(dim) || dim < 0)
      throw new UsageError(
        `dimension ${axis} of shape [${shape.join(", ")}] is ${dim}; need a whole number ≥ 0`,
        {
          where,
          hint: "a concrete tensor needs every dimension known (-1 is only valid in a signature's TensorInfo)",
        },
      );
    count *= dim;
  });
  if (count > MAX_ELEMENTS)
    throw new UsageError(`shape [${shape.join(", ")}] has ${count} elements, more than ${MAX_ELEMENTS}`, {
      where,
      hint: "split the tensor into smaller requests",
    });
  return count;
}

function path(indices: readonly number[]): string {
  return `values${indices.map((i) => `[${i}]`).join("")}`;
}

/**
 * Shape and row-major flat values of nested arrays. `isLeaf` decides what counts as a scalar (so a Buffer or a
 * string is one element, not a list). Ragged nesting is an error naming the first offending position.
 */
export function flattenNested<T>(
  nested: Nested<T>,
  isLeaf: (value: unknown) => value is T,
  where?: string,
): { shape: number[]; values: T[] } {
  const shape: number[] = [];
  for (let probe: unknown = nested; Array.isArray(probe); probe = probe[0]) shape.push(probe.length);
  const values: T[] = [];
  const visit = (node: unknown, depth: number, indices: number[]): void => {
    if (depth === shape.length) {
      if (Array.isArray(node) || !isLeaf(node))
        throw new UsageError(
          `${path(indices)} is ${Array.isArray(node) ? "a list" : describe(node)} where a scalar was expected (ragged nesting or wrong value type)`,
          { where, hint: `every innermost element must be a scalar at depth ${shape.length}` },
        );
      values.push(node);
      return;
    }
    if (!Array.isArray(node) || node.length !== shape[depth])
      throw new UsageError(
        `${path(indices)} has ${Array.isArray(node) ? `length ${node.length}` : `a scalar (${describe(node)})`} but dimension ${depth} is ${shape[depth]}: ragged nested arrays`,
        { where, hint: "every list at the same depth must have the same length (a tensor is rectangular)" },
      );
    for (let i = 0; i < node.length; i++) {
      indices.push(i);
      visit(node[i], depth + 1, indices);
      indices.pop();
    }
  };
  visit(nested, 0, []);
  return { shape, values };
}

export function describe(value: unknown): string {
  if (typeof value === "string")
    return `the string ${JSON.stringify(value.length > 40 ? value.slice(0, 40) + "…" : value)}`;
  if (typeof value === "bigint") return `${value}n`;
  if (value === null || value === undefined) return String(value);
  if (Buffer.isBuffer(value)) return `a ${value.length}-byte Buffer`;
  if (typeof value === "object") return `an object (${Object.prototype.toString.call(value)})`;
  return `${typeof value} ${String(value)}`;
}

/** Row-major flat values → nested arrays of `shape` ([] gives the single scalar). */
export function nestByShape<T>(values: readonly T[], shape: readonly number[]): Nested<T> {
  const count = elementCount(shape);
  if (values.length !== count)
    throw new UsageError(
      `${values.length} values do not fill shape [${shape.join(", ")}] (${count} elements)`,
      {
        hint: "pass exactly as many values as the product of the dimensions",
      },
    );
  if (shape.length === 0) return values[0] as T;
  let offset = 0;
  const build = (depth: number): Nested<T>[] => {
    const out: Nested<T>[] = [];
    for (let i = 0; i < shape[depth]!; i++) {
      if (depth === shape.length - 1) out.push(values[offset++] as T);
      else out.push(build(depth + 1));
    }
    return out;
  };
  return build(0);
}
