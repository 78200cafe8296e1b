// Stable vs candidate: the requests the candidate already answered (synthesised, golden, warmup) go to stable by
// its version number; per output tensor the max absolute and relative difference and, for rank ≥ 2
// floating-point outputs (class scores), the argmax agreement rate are compared with the configured bounds. The
// report names the worst tensor and element.
import { describeExchangeError } from "./exchange-error.js";
import type { GateContext } from "./gate-context.js";
import { DEFAULT_DIFF_REQUESTS, type StableDiffOptions } from "./gate-options.js";
import { grpcExchange } from "./predict-exchange.js";
import type { TensorLike } from "./summary.js";
import { diffElements, indexText, sameShape, topKAgreement } from "./tensor-diff.js";

interface Worst {
  value: number;
  where: string;
}

interface OutputStats {
  abs: Worst;
  rel: Worst;
  rows: number;
  agreeing: number;
  unequal: number;
}

const FLOATS = new Set(["DT_FLOAT", "DT_DOUBLE", "DT_HALF", "DT_BFLOAT16"]);
const round = (n: number): number => Number(n.toPrecision(6));

function isClassScores(t: TensorLike): boolean {
  return t.dtype !== undefined && FLOATS.has(t.dtype) && t.shape.length >= 2 && (t.shape.at(-1) ?? 0) > 1;
}

export async function diffAgainstStable(ctx: GateContext, options: StableDiffOptions): Promise<void> {
  const stable = ctx.stable;
  if (stable === undefined) return;
  const name = `outputs vs stable ${stable.version}`;
  const problems: string[] = [];
  const stats = new Map<string, OutputStats>();
  const replies = ctx.replies
    .filter((r) => ctx.stableSignatures?.[r.request.signature] !== undefined)
    .slice(0, options.maxRequests ?? DEFAULT_DIFF_REQUESTS);
  for (const { request, exchange } of replies) {
    const theirs = await grpcExchange(ctx.grpc, stable, request);
    if (theirs.error !== undefined) {
      problems.push(
        `stable failed "${request.label}": ${describeExchangeError(theirs.error, stable.deadlineMs)}`,
      );
      ctx.noteFailure(request, theirs, stable);
      continue;
    }
    for (const [alias, mine] of Object.entries(exchange.outputs ?? {})) {
      const ref = theirs.outputs?.[alias];
      if (mine instanceof Error || ref === undefined || ref instanceof Error) continue;
      const where = (i: number): string =>
        `"${alias}"${indexText(i, ref.shape)} of ${request.signature} (${request.label})`;
      if (!sameShape(mine, ref)) {
        problems.push(
          `output "${alias}" of "${request.label}" has shape [${mine.shape.join(", ")}]; stable's is [${ref.shape.join(", ")}]`,
        );
        continue;
      }
      const s = stats.get(alias) ?? {
        abs: { value: 0, where: "" },
        rel: { value: 0, where: "" },
        rows: 0,
        agreeing: 0,
        unequal: 0,
      };
      const d = diffElements(mine.values, ref.values);
      if (d.maxAbsIndex >= 0 && (d.maxAbsDiff > s.abs.value || s.abs.where === ""))
        s.abs = { value: d.maxAbsDiff, where: where(d.maxAbsIndex) };
      if (d.maxRelIndex >= 0 && d.maxRelDiff > s.rel.value)
        s.rel = { value: d.maxRelDiff, where: where(d.maxRelIndex) };
      if (d.unequal > 0) {
        s.unequal += d.unequal;
        problems.push(
          `output ${where(d.firstUnequal)} is ${String(mine.values[d.firstUnequal])}; stable's is ${String(ref.values[d.firstUnequal])}`,
        );
      }
      if (isClassScores(ref)) {
        const agreement = topKAgreement(mine, ref, 1);
        s.rows += agreement.rows;
        s.agreeing += agreement.agreeing;
      }
      stats.set(alias, s);
    }
  }
  const numbers: Record<string, number> = { requests: replies.length };
  let worstAbs: [string, Worst] | undefined;
  let worstRel: [string, Worst] | undefined;
  for (const [alias, s] of [...stats].sort(([a], [b]) => a.localeCompare(b))) {
    numbers[`${alias}.maxAbsDiff`] = round(s.abs.value);
    numbers[`${alias}.maxRelDiff`] = round(s.rel.value);
    if (!worstAbs || s.abs.value > worstAbs[1].value) worstAbs = [alias, s.abs];
    if (!worstRel || s.rel.value > worstRel[1].value) worstRel = [alias, s.rel];
    if (s.rows > 0) {
      const rate = s.agreeing / s.rows;
      numbers[`${alias}.argmaxAgreement`] = round(rate);
      if (options.minArgmaxAgreement !== undefined && rate < options.minArgmaxAgreement)
        problems.push(
          `output "${alias}" argmax agrees with stable in ${s.agreeing} of ${s.rows} rows (${(rate * 100).toFixed(1)}%, minimum ${(options.minArgmaxAgreement * 100).toFixed(1)}%)`,
        );
    }
  }
  if (worstAbs && options.maxAbsDiff !== undefined && worstAbs[1].value > options.maxAbsDiff)
    problems.unshift(
      `max absolute difference ${round(worstAbs[1].value)} at output ${worstAbs[1].where} exceeds ${options.maxAbsDiff}`,
    );
  if (worstRel && options.maxRelDiff !== undefined && worstRel[1].value > options.maxRelDiff)
    problems.unshift(
      `max relative difference ${round(worstRel[1].value)} at output ${worstRel[1].where} exceeds ${options.maxRelDiff}`,
    );
  const worst =
    worstAbs && worstAbs[1].where !== ""
      ? `; largest difference ${round(worstAbs[1].value)} at output ${worstAbs[1].where}`
      : "";
  ctx.checks.push({
    name,
    passed: problems.length === 0,
    detail:
      replies.length === 0
        ? `no request both versions serve was answered by the candidate; nothing compared`
        : problems.length === 0
          ? `${replies.length} request(s) compared, within bounds${worst}`
          : problems.slice(0, 5).join("; "),
    numbers,
    ...(replies.length === 0 ? { skipped: "no request to compare" } : {}),
  });
}
