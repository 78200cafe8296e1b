// Replays the candidate's warmup predict records against it (by version) as smoke requests. TF Serving replays
// them at load time only for errors; here every reply must also keep the signature's promises (declared outputs,
// dtypes, shapes, finite floats). One check for the whole file keeps the result small.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { readWarmupFile, WARMUP_FILE } from "../warmup/reader.js";
import { checkOutputs } from "./check-response.js";
import { describeExchangeError } from "./exchange-error.js";
import type { GateContext } from "./gate-context.js";
import { DEFAULT_WARMUP_REPLAY_RECORDS, type WarmupReplayOptions } from "./gate-options.js";
import { grpcExchange } from "./predict-exchange.js";
import { preparedFromPredictRequest } from "./prediction-log-file.js";
import { errorText } from "./summary.js";

const SHOWN_FAILURES = 3;

export async function replayWarmup(
  ctx: GateContext,
  versionDir: string,
  options: WarmupReplayOptions = {},
): Promise<void> {
  const name = "warmup replay";
  const file = join(versionDir, WARMUP_FILE);
  if (!existsSync(file)) {
    const reason = `the candidate ships no ${WARMUP_FILE}`;
    ctx.checks.push({ name, passed: true, detail: `skipped: ${reason}`, skipped: reason });
    return;
  }
  let requests: Record<string, unknown>[];
  try {
    requests = readWarmupFile(file).predictRequests;
  } catch (error) {
    ctx.checks.push({ name, passed: false, detail: `cannot read the warmup file: ${errorText(error)}` });
    return;
  }
  const max = options.maxRecords ?? DEFAULT_WARMUP_REPLAY_RECORDS;
  const replayed = requests.slice(0, max);
  const failures: string[] = [];
  let maxLatencyMs = 0;
  for (const [index, plain] of replayed.entries()) {
    const label = `warmup record ${index + 1}`;
    let request;
    try {
      request = preparedFromPredictRequest(plain, label, `${file} predict record ${index + 1}`);
    } catch (error) {
      failures.push(`${label}: ${errorText(error)}`);
      continue;
    }
    const exchange = await grpcExchange(ctx.grpc, ctx.candidate, request);
    maxLatencyMs = Math.max(maxLatencyMs, exchange.elapsedMs);
    const signature = ctx.candidateSignatures[request.signature];
    const problems: string[] = [];
    if (exchange.error !== undefined)
      problems.push(describeExchangeError(exchange.error, ctx.candidate.deadlineMs));
    else if (signature === undefined) problems.push(`the candidate has no signature "${request.signature}"`);
    else problems.push(...checkOutputs(signature.outputs, exchange.outputs ?? {}, request.batch).problems);
    if (problems.length > 0) {
      failures.push(`${label} (${request.signature}): ${problems.join("; ")}`);
      ctx.noteFailure(request, exchange, ctx.candidate);
    } else ctx.replies.push({ request, exchange });
  }
  const shown = failures.slice(0, SHOWN_FAILURES).join(" | ");
  const more = failures.length > SHOWN_FAILURES ? ` | … ${failures.length - SHOWN_FAILURES} more` : "";
  ctx.checks.push({
    name,
    passed: failures.length === 0,
    detail:
      failures.length === 0
        ? `${replayed.length} of ${requests.length} warmup predict record(s) replayed against version ${ctx.candidate.version}; every reply keeps the signature's promises`
        : `${failures.length} of ${replayed.length} warmup record(s) failed: ${shown}${more}`,
    numbers: {
      records: requests.length,
      replayed: replayed.length,
      failed: failures.length,
      maxLatencyMs: Math.round(maxLatencyMs * 10) / 10,
    },
  });
}
