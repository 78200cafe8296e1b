// Latency budget: the same request N times to the candidate and to stable, interleaved (alternating which goes
// first) so both see the same load, on the injected clock; candidate p50/p99 against absolute budgets and against
// stable's measured in the same run.
import { describeExchangeError } from "./exchange-error.js";
import type { GateContext } from "./gate-context.js";
import {
  DEFAULT_LATENCY_FLOOR_MS,
  DEFAULT_LATENCY_REQUESTS,
  type LatencyBudgetOptions,
} from "./gate-options.js";
import { grpcExchange, type ExchangeTarget } from "./predict-exchange.js";
import type { PreparedRequest } from "./prepared-request.js";

/** Nearest-rank percentile (p in 0..100) of unsorted samples; 0 for none. */
export function percentile(samples: readonly number[], p: number): number {
  if (samples.length === 0) return 0;
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

const round = (n: number): number => Math.round(n * 10) / 10;

export interface LatencySamples {
  candidate: number[];
  stable: number[];
  errors: string[];
}

async function sample(
  ctx: GateContext,
  target: ExchangeTarget,
  request: PreparedRequest,
  into: number[],
  errors: string[],
): Promise<void> {
  const exchange = await grpcExchange(ctx.grpc, target, request);
  if (exchange.error !== undefined)
    errors.push(`version ${target.version}: ${describeExchangeError(exchange.error, target.deadlineMs)}`);
  else into.push(exchange.elapsedMs);
}

export async function measureLatency(
  ctx: GateContext,
  request: PreparedRequest,
  count: number,
): Promise<LatencySamples> {
  const samples: LatencySamples = { candidate: [], stable: [], errors: [] };
  for (let i = 0; i < count; i++) {
    const order: [ExchangeTarget | undefined, number[]][] = [
      [ctx.candidate, samples.candidate],
      [ctx.stable, samples.stable],
    ];
    if (i % 2 === 1) order.reverse();
    for (const [target, into] of order) if (target) await sample(ctx, target, request, into, samples.errors);
  }
  return samples;
}

/** The verdict on measured samples: problems (empty = within budget) and the numbers. */
export function judgeLatency(
  samples: LatencySamples,
  options: LatencyBudgetOptions,
): { problems: string[]; numbers: Record<string, number> } {
  const problems: string[] = [];
  const c = { p50: percentile(samples.candidate, 50), p99: percentile(samples.candidate, 99) };
  const numbers: Record<string, number> = {
    requests: samples.candidate.length,
    candidateP50Ms: round(c.p50),
    candidateP99Ms: round(c.p99),
  };
  if (samples.errors.length > 0)
    problems.push(`${samples.errors.length} request(s) failed, first: ${samples.errors[0]}`);
  if (options.p50Ms !== undefined && c.p50 > options.p50Ms)
    problems.push(`candidate p50 ${round(c.p50)} ms exceeds the ${options.p50Ms} ms budget`);
  if (options.p99Ms !== undefined && c.p99 > options.p99Ms)
    problems.push(`candidate p99 ${round(c.p99)} ms exceeds the ${options.p99Ms} ms budget`);
  if (samples.stable.length > 0) {
    const floor = options.floorMs ?? DEFAULT_LATENCY_FLOOR_MS;
    const s = { p50: percentile(samples.stable, 50), p99: percentile(samples.stable, 99) };
    Object.assign(numbers, { stableP50Ms: round(s.p50), stableP99Ms: round(s.p99) });
    for (const [p, factor] of [
      ["p50", options.maxP50VsStable],
      ["p99", options.maxP99VsStable],
    ] as const) {
      if (factor === undefined) continue;
      const limit = factor * Math.max(s[p], floor);
      if (c[p] > limit)
        problems.push(
          `candidate ${p} ${round(c[p])} ms exceeds ${factor}x stable's ${round(s[p])} ms (limit ${round(limit)} ms, floor ${floor} ms)`,
        );
    }
  }
  return { problems, numbers };
}

export async function checkLatencyBudget(ctx: GateContext, options: LatencyBudgetOptions): Promise<void> {
  const name = "latency budget";
  const request = ctx.replies[0]?.request;
  if (request === undefined) {
    ctx.checks.push({
      name,
      passed: false,
      detail: "no request the candidate answered to measure latency with",
    });
    return;
  }
  const count = options.requests ?? DEFAULT_LATENCY_REQUESTS;
  const stableVersion =
    ctx.stable && ctx.stableSignatures?.[request.signature] !== undefined ? ctx.stable : undefined;
  const samples = await measureLatency(
    { ...ctx, ...(stableVersion ? {} : { stable: undefined }) },
    request,
    count,
  );
  const { problems, numbers } = judgeLatency(samples, options);
  const versus =
    numbers.stableP99Ms !== undefined
      ? `; stable ${ctx.stable!.version} p50 ${numbers.stableP50Ms} ms, p99 ${numbers.stableP99Ms} ms`
      : "";
  const measured = `candidate p50 ${numbers.candidateP50Ms} ms, p99 ${numbers.candidateP99Ms} ms over ${count} "${request.label}" request(s)${versus}`;
  ctx.checks.push({
    name,
    passed: problems.length === 0,
    detail: problems.length === 0 ? `within budget: ${measured}` : `${problems.join("; ")} (${measured})`,
    numbers,
  });
}
