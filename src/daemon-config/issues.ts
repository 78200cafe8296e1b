import type { $ZodIssue } from "zod/v4/core";
import { hintFor } from "./hints.js";
import { type ConfigProblem, formatPath, showValue } from "./problems.js";
import { allowedKeysAt } from "./schema.js";
import { didYouMean } from "./suggest.js";

/** Turning zod's issues into problems a person can act on: the value as written, where, and how to fix it. */

export type WhereOf = (path: readonly PropertyKey[], key?: boolean) => string | undefined;

/** Problems for every schema issue: one per unknown key, the first issue per value, in file order. */
export function describeIssues(
  issues: readonly $ZodIssue[],
  raw: unknown,
  whereOf: WhereOf,
): ConfigProblem[] {
  return sortByPosition(firstPerPath(issues.flatMap((issue) => describeIssue(issue, raw, whereOf))));
}

function describeIssue(issue: $ZodIssue, raw: unknown, whereOf: WhereOf): ConfigProblem[] {
  const path = issue.path;
  if (issue.code === "unrecognized_keys") {
    const allowed = allowedKeysAt(path);
    return issue.keys.map((key) => {
      const suggestion = didYouMean(key, allowed);
      return {
        path: formatPath([...path, key]),
        where: whereOf([...path, key], true),
        message: "unknown key",
        hint: suggestion
          ? `did you mean ${suggestion}?`
          : `valid keys ${path.length ? `in ${formatPath(path)}` : "at the top level"}: ${allowed.join(", ")}`,
      };
    });
  }
  const value = valueAt(raw, path);
  let message: string;
  if (issue.code === "invalid_type")
    message =
      value === undefined
        ? "is required"
        : `expected ${article(issue.expected)}, got ${showValue(value)}${yaml11Boolean(issue.expected, value)}`;
  else if (issue.code === "invalid_value")
    message = `${showValue(value)} is not one of ${issue.values.map((v) => String(v)).join(", ")}`;
  else message = `${showValue(value)} ${issue.message}`;
  return [{ path: formatPath(path), where: whereOf(path), message, hint: hintFor(path) }];
}

/** YAML 1.2 (the yaml package) reads yes/no/on/off as text, unlike YAML 1.1 tools; say so. */
function yaml11Boolean(expected: string, value: unknown): string {
  return expected === "boolean" && typeof value === "string" && /^(y|n|yes|no|on|off)$/i.test(value)
    ? " (YAML 1.2 reads yes/no/on/off as text: write true or false)"
    : "";
}

const TYPE_NAMES: Record<string, string> = {
  object: "a map of keys",
  record: "a map",
  array: "a list",
  int: "a whole number",
};

function article(expected: string): string {
  return TYPE_NAMES[expected] ?? (/^[aeiou]/.test(expected) ? `an ${expected}` : `a ${expected}`);
}

/** zod may report several issues for one value (a list is neither a string nor long enough); the first says it. */
function firstPerPath(problems: ConfigProblem[]): ConfigProblem[] {
  const seen = new Set<string | undefined>();
  return problems.filter((problem) => !seen.has(problem.path) && seen.add(problem.path));
}

function valueAt(raw: unknown, path: readonly PropertyKey[]): unknown {
  let value = raw;
  for (const segment of path) {
    if (value === null || typeof value !== "object") return undefined;
    value = (value as Record<PropertyKey, unknown>)[segment];
  }
  return value;
}

/** Problems in file order (FILE:LINE:COL), then those from flags or without a place, in the order found. */
export function sortByPosition(problems: ConfigProblem[]): ConfigProblem[] {
  const position = (problem: ConfigProblem): [number, number] => {
    const match = /:(\d+):(\d+)$/.exec(problem.where ?? "");
    return match ? [Number(match[1]), Number(match[2])] : [Infinity, 0];
  };
  return problems
    .map((problem, index) => ({ problem, index, at: position(problem) }))
    .sort((a, b) => a.at[0] - b.at[0] || a.at[1] - b.at[1] || a.index - b.index)
    .map(({ problem }) => problem);
}
