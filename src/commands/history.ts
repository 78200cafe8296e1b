/**
 * `tfs-rollout history [MODEL] [--limit N]`: the audit trail from the journal, newest first: detections (admit),
 * gate results with their numbers, promotions, rollbacks, hand edits accepted, pins, retries, and who did each.
 * Reads the state directory only; TF Serving is not asked, so this works while it is down. In fleet mode the fleet's
 * records from etcd (opens, each replica's reports, decisions, removals) are merged in. Exit 0, or 2 on bad usage
 * (unknown model, bad --limit).
 */
import type { Command } from "commander";
import { UsageError } from "../errors.js";
import type { CommandContext } from "../program.js";
import { asGateReport, auditTrail, gateCheckLines, type AuditEvent, type IntentLookup } from "./audit.js";
import { printJson } from "./io.js";
import { addLookOptions, consumedIntents, selectModels, withLook, type Look } from "./look.js";
import { clipText, formatTime, renderTable } from "./table.js";
import { fleetEvents } from "./fleet-history.js";
import { openCliFleet } from "./fleet-view.js";
import { errorText } from "../gate/summary.js";

/** Journal entries read per model: enough for any --limit, as compaction keeps about this many. */
const JOURNAL_SCAN = 2000;

export function registerHistory(program: Command, ctx: CommandContext): void {
  const command = program
    .command("history")
    .description(
      "the audit trail from the journal, newest first: detections, gates, promotions, rollbacks, pins",
    )
    .argument("[model]", "only this model (default: every model)")
    .option("--limit <n>", "at most this many events (default 50)");
  addLookOptions(command);
  command.action(async (model: string | undefined, opts: Record<string, unknown>) => {
    const limit = parseLimit(opts.limit);
    const events = await withLook(ctx, opts, async (look) => {
      const all: AuditEvent[] = [];
      const models = await selectModels(look, model);
      for (const name of models) all.push(...(await modelEvents(look, name, limit)));
      // Fleet mode: the fleet's records (opens, every replica's reports, decisions, removals) beside this journal.
      const fleet = await openCliFleet(look.config);
      try {
        if (fleet?.problem !== undefined)
          ctx.io.stderr(`fleet events not shown: etcd is unreachable (${fleet.problem})\n`);
        else if (fleet !== undefined)
          for (const name of models) all.push(...fleetEvents(await fleet.backend.rollouts(name)));
      } catch (error) {
        ctx.io.stderr(`fleet events not shown: ${errorText(error)}\n`);
      } finally {
        await fleet?.close();
      }
      return all.sort((a, b) => (a.at < b.at ? 1 : a.at > b.at ? -1 : 0)).slice(0, limit);
    });
    if (opts.json === true) printJson(ctx.io, { events });
    else ctx.io.stdout(renderHistory(events));
  });
}

export function parseLimit(value: unknown): number {
  if (value === undefined) return 50;
  const n = typeof value === "string" && /^\d+$/.test(value) ? Number(value) : NaN;
  if (!Number.isSafeInteger(n) || n < 1)
    throw new UsageError(`--limit must be a positive whole number, not ${JSON.stringify(value)}`, {
      hint: "for example --limit 20",
    });
  return n;
}

export async function modelEvents(look: Look, model: string, limit: number): Promise<AuditEvent[]> {
  const [entries, pending, consumed, verdicts] = await Promise.all([
    look.state.journal.history(model, { limit: JOURNAL_SCAN }),
    look.state.intents.pending(model),
    consumedIntents(look, model),
    look.state.verdicts.list(model),
  ]);
  const intents: IntentLookup = new Map(consumed);
  for (const intent of pending) intents.set(intent.id, intent);
  const events = auditTrail(entries, intents, limit);
  // A gate step whose journal entry holds no report: the verdict store's copy of the version's gate result.
  for (const event of events) {
    if (event.step !== "gate" || event.gate !== undefined || event.outcome === "in-flight") continue;
    const stored = asGateReport(verdicts.find((v) => v.version === event.version)?.gate);
    if (stored !== undefined) event.gate = stored;
  }
  return events;
}

export function renderHistory(events: AuditEvent[]): string {
  if (events.length === 0) return "no events in the journal\n";
  const rows: string[][] = [];
  for (const e of events) {
    rows.push([
      formatTime(e.at),
      e.model,
      e.version ?? "-",
      e.by,
      clipText(e.reason === "" ? e.what : `${e.what}: ${e.reason}`, 140),
    ]);
    if (e.gate !== undefined) for (const line of gateCheckLines(e.gate)) rows.push(["", "", "", "", line]);
  }
  return renderTable(["TIME", "MODEL", "VERSION", "BY", "EVENT"], rows);
}
