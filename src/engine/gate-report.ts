/**
 * How a gate result is told: the one-line reason (verdicts, `outcome.reason`), and the compact fields of the gate
 * step's log event and step listeners (ops metrics count `checks` by outcome; webhooks list the failed ones). The
 * complete-but-bounded form (journalGateResult) goes into the journal and the verdict store instead.
 */
import type { GateResult } from "../gate/gate-result.js";
import { clip } from "../gate/summary.js";

export function gateReason(result: GateResult): string {
  if (result.passed) return `${result.checks.length} checks passed`;
  return result.checks
    .filter((c) => !c.passed)
    .map((c) => `${c.name}: ${c.detail}`)
    .join("; ");
}

/** Each check by name and outcome; a failed check's detail, clipped; no numbers, no signature changes. */
export function gateLogDetails(result: GateResult): Record<string, unknown> {
  const failed = result.checks.filter((c) => !c.passed).length;
  return {
    gate_duration_ms: Math.round(result.durationMs),
    checks_passed: result.checks.length - failed,
    checks_failed: failed,
    checks: result.checks.map((c) => ({
      name: clip(c.name, 120),
      passed: c.passed,
      ...(c.skipped === undefined ? {} : { skipped: clip(c.skipped, 120) }),
      ...(c.passed ? {} : { detail: clip(c.detail, 300) }),
    })),
    ...(result.failingExchange ? { failing_exchange: result.failingExchange } : {}),
  };
}
