// A GateResult bounded for the journal: JSON-safe (non-finite numbers dropped) and of bounded size whatever the
// number of requests, outputs or signature changes. Failing checks are kept before passing ones when cutting.
import type { GateCheck, GateResult } from "./gate-result.js";
import { clip } from "./summary.js";

export const JOURNAL_MAX_CHECKS = 60;
export const JOURNAL_MAX_DETAIL = 600;
export const JOURNAL_MAX_NUMBERS = 40;
export const JOURNAL_MAX_CHANGES = 30;

function boundedCheck(check: GateCheck): GateCheck {
  const out: GateCheck = {
    name: clip(check.name, 200),
    passed: check.passed,
    detail: clip(check.detail, JOURNAL_MAX_DETAIL),
  };
  if (check.numbers)
    out.numbers = Object.fromEntries(
      Object.entries(check.numbers)
        .filter(([, n]) => Number.isFinite(n))
        .slice(0, JOURNAL_MAX_NUMBERS),
    );
  if (check.skipped !== undefined) out.skipped = clip(check.skipped);
  if (check.changes)
    out.changes = check.changes.slice(0, JOURNAL_MAX_CHANGES).map((c) => ({ ...c, detail: clip(c.detail) }));
  return out;
}

function boundedSummary(summary: Record<string, unknown>): Record<string, unknown> {
  return JSON.parse(
    JSON.stringify(summary, (_key, value: unknown) =>
      typeof value === "string"
        ? clip(value)
        : typeof value === "number" && !Number.isFinite(value)
          ? String(value)
          : value,
    ),
  ) as Record<string, unknown>;
}

export function journalGateResult(result: GateResult): GateResult {
  let checks = result.checks;
  if (checks.length > JOURNAL_MAX_CHECKS) {
    const keep = new Set(
      [...checks.filter((c) => !c.passed), ...checks.filter((c) => c.passed)].slice(
        0,
        JOURNAL_MAX_CHECKS - 1,
      ),
    );
    const dropped = checks.length - keep.size;
    const droppedFailing = checks.filter((c) => !c.passed && !keep.has(c)).length;
    checks = [
      ...checks.filter((c) => keep.has(c)),
      {
        name: "more checks",
        passed: droppedFailing === 0,
        detail: `${dropped} check(s) left out of the journal (${droppedFailing} failing)`,
        numbers: { dropped, droppedFailing },
      },
    ];
  }
  const bounded: GateResult = {
    passed: result.passed,
    checks: checks.map(boundedCheck),
    durationMs: Number.isFinite(result.durationMs) ? Math.round(result.durationMs) : 0,
  };
  if (result.failingExchange)
    bounded.failingExchange = {
      request: boundedSummary(result.failingExchange.request),
      response: boundedSummary(result.failingExchange.response),
    };
  return bounded;
}
