/**
 * Checks on what callers hand to the state backend, so nothing is stored that a later reader (another process,
 * another version of tfs-rollout, another backend) could not read back as the same value.
 */
import { isDeepStrictEqual } from "node:util";
import { RolloutError } from "../errors.js";
import type { Actor, JsonValue } from "./store.js";

export function isActor(value: unknown): value is Actor {
  return (
    value === "daemon" || value === "auto-rollback" || (typeof value === "string" && /^cli:\S+$/.test(value))
  );
}

export function assertActor(value: unknown, what: string): asserts value is Actor {
  if (!isActor(value))
    throw new RolloutError(
      `${what}: "by" must be daemon, auto-rollback or cli:<user>, not ${JSON.stringify(value)}`,
    );
}

export function assertNonEmpty(value: unknown, field: string, what: string): asserts value is string {
  if (typeof value !== "string" || value.length === 0)
    throw new RolloutError(`${what}: "${field}" must be a non-empty string, not ${JSON.stringify(value)}`);
}

/** Returns `value` as it reads back from JSON; throws when JSON would change it (undefined, NaN, Date, ...). */
export function asJson(value: unknown, what: string): JsonValue {
  const text = JSON.stringify(value);
  const back = text === undefined ? undefined : (JSON.parse(text) as JsonValue);
  if (back === undefined || !isDeepStrictEqual(back, value))
    throw new RolloutError(
      `${what} is not plain JSON (undefined, NaN, Infinity, a Date or a class instance?)`,
      {
        hint: "store plain objects, arrays, strings, finite numbers, booleans and null",
      },
    );
  return back;
}
