// Golden requests: requests with expected outputs, from the options (inline) or from files (JSON requests in the
// daemon config's `gate.requests` form, or TFRecords of PredictionLogs), and the comparison of a reply with them.
import { readFileSync } from "node:fs";
import { RolloutError } from "../errors.js";
import { flattenNested } from "../tensor/shape.js";
import { DEFAULT_TOLERANCE, prepareExtraRequest } from "./extra-request.js";
import type { GoldenOptions, GoldenRequest, GoldenTolerance } from "./gate-options.js";
import type { GateSignatures } from "./gate-signature.js";
import type { PreparedRequest } from "./prepared-request.js";
import { readPredictionLogs } from "./prediction-log-file.js";
import type { TensorLike } from "./summary.js";
import { firstOutside, indexText, sameShape, topKAgreement } from "./tensor-diff.js";

export interface GoldenCase {
  request: PreparedRequest;
  expected: Record<string, TensorLike>;
  tolerance: GoldenTolerance;
}

const isLeaf = (v: unknown): v is unknown => !Array.isArray(v);
type Plain = Record<string, unknown>;

function fromGoldenRequest(
  golden: GoldenRequest,
  index: number,
  signatures: GateSignatures,
  fallback: GoldenTolerance,
): GoldenCase {
  const request = prepareExtraRequest(golden, index, signatures[golden.signature ?? "serving_default"]);
  const expected = Object.fromEntries(
    Object.entries(golden.expected ?? {}).map(([alias, nested]) => [
      alias,
      flattenNested(nested, isLeaf, `golden request "${request.label}" expected output "${alias}"`),
    ]),
  );
  return { request, expected, tolerance: golden.tolerance ?? fallback };
}

const TOLERANCE_KEYS = new Set(["absolute", "relative", "topK", "minTopKAgreement"]);

/** One `gate.requests`-form entry of a JSON file → GoldenRequest. */
function configEntry(entry: unknown, file: string, index: number): GoldenRequest {
  const where = `${file} request ${index + 1}`;
  if (
    typeof entry !== "object" ||
    entry === null ||
    Array.isArray(entry) ||
    typeof (entry as Plain).inputs !== "object"
  )
    throw new RolloutError(`golden request ${index + 1} has no "inputs" object`, {
      where,
      hint: 'write {"name": ..., "signature_name": ..., "inputs": {alias: nested values}, "expected_outputs": {...}}',
    });
  const e = entry as Plain;
  const golden: GoldenRequest = {
    name: typeof e.name === "string" ? e.name : `${file} #${index + 1}`,
    inputs: e.inputs as Plain,
  };
  if (typeof e.signature_name === "string") golden.signature = e.signature_name;
  if (typeof e.expected_outputs === "object" && e.expected_outputs !== null)
    golden.expected = e.expected_outputs as Plain;
  const badTolerance = Object.entries((e.tolerance as Plain | undefined) ?? {}).find(
    ([key, value]) => !TOLERANCE_KEYS.has(key) || typeof value !== "number" || !(value >= 0),
  );
  if (badTolerance)
    throw new RolloutError(
      `golden request ${index + 1} has tolerance ${badTolerance[0]}: ${JSON.stringify(badTolerance[1])}`,
      {
        where,
        hint: `tolerance keys are ${[...TOLERANCE_KEYS].join(", ")}, each a number >= 0`,
      },
    );
  if (typeof e.tolerance === "object" && e.tolerance !== null)
    golden.tolerance = e.tolerance as GoldenTolerance;
  return golden;
}

function readJsonRequests(file: string): GoldenRequest[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, "utf8"));
  } catch (error) {
    throw new RolloutError(`cannot read golden requests from ${file}: ${(error as Error).message}`, {
      where: file,
      hint: 'a JSON request, an array of them, or {"requests": [...]} in the daemon config\'s gate.requests form',
      cause: error,
    });
  }
  const list = Array.isArray(parsed)
    ? parsed
    : typeof parsed === "object" && parsed !== null && Array.isArray((parsed as Plain).requests)
      ? ((parsed as Plain).requests as unknown[])
      : [parsed];
  return list.map((entry, i) => configEntry(entry, file, i));
}

/** Every golden case; a bad file or request throws (a RolloutError/UsageError naming it). */
export function loadGoldenCases(options: GoldenOptions, signatures: GateSignatures): GoldenCase[] {
  const fallback = options.tolerance ?? {};
  const cases = (options.requests ?? []).map((g, i) => fromGoldenRequest(g, i, signatures, fallback));
  for (const file of options.files ?? []) {
    if (file.endsWith(".json")) {
      for (const [i, g] of readJsonRequests(file).entries())
        cases.push(fromGoldenRequest(g, i, signatures, fallback));
    } else {
      for (const logged of readPredictionLogs(file))
        cases.push({ request: logged.request, expected: logged.expected ?? {}, tolerance: fallback });
    }
  }
  return cases;
}

const FLOATS = new Set(["DT_FLOAT", "DT_DOUBLE", "DT_HALF", "DT_BFLOAT16"]);

/** Compares a reply's outputs with a case's expected ones: problems, and the numbers behind them. */
export function compareGolden(
  golden: GoldenCase,
  observed: Record<string, TensorLike | Error>,
): { problems: string[]; numbers: Record<string, number> } {
  const tolerance = { ...DEFAULT_TOLERANCE, ...golden.tolerance };
  const problems: string[] = [];
  const numbers: Record<string, number> = { expectedOutputs: Object.keys(golden.expected).length };
  for (const [alias, want] of Object.entries(golden.expected).sort(([a], [b]) => a.localeCompare(b))) {
    const got = observed[alias];
    if (got === undefined || got instanceof Error) {
      problems.push(`expected output "${alias}" is not in the reply`);
      continue;
    }
    if (!sameShape(got, want)) {
      problems.push(
        `output "${alias}" has shape [${got.shape.join(", ")}]; expected [${want.shape.join(", ")}]`,
      );
      continue;
    }
    const numeric =
      want.dtype === undefined ? want.values.every((v) => typeof v === "number") : FLOATS.has(want.dtype);
    if (tolerance.topK !== undefined && numeric) {
      const agreement = topKAgreement(got, want, tolerance.topK);
      const rate = agreement.rows === 0 ? 1 : agreement.agreeing / agreement.rows;
      const min = tolerance.minTopKAgreement ?? 1;
      numbers[`${alias}.top${tolerance.topK}Agreement`] = rate;
      if (rate < min)
        problems.push(
          `output "${alias}" top-${tolerance.topK} classes agree in ${agreement.agreeing} of ${agreement.rows} rows (${(rate * 100).toFixed(1)}%, minimum ${(min * 100).toFixed(1)}%); first disagreeing row ${agreement.firstDisagreeing}`,
        );
      continue;
    }
    const bad = firstOutside(got.values, want.values, tolerance.absolute, tolerance.relative);
    if (bad >= 0)
      problems.push(
        `output "${alias}" element ${indexText(bad, want.shape)} is ${String(got.values[bad])}, expected ${String(want.values[bad])} (tolerance: absolute ${tolerance.absolute}, relative ${tolerance.relative})`,
      );
  }
  return { problems, numbers };
}
