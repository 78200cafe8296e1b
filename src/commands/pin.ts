/**
 * `tfs-rollout pin MODEL VERSION [--reason TEXT] [--expires DURATION]` and `tfs-rollout unpin MODEL`. While a pin
 * holds, `stable` stays on VERSION (moved there first, through the gates unless it was promoted before, when it is
 * another version on disk) and new candidates are gated but not promoted. A pin to a version the controller could
 * not make stable (missing, rejected, failed in TF Serving) is refused before anything is recorded.
 */
import type { Command } from "commander";
import { targetRefusal } from "../controller/plan-intents.js";
import { DURATION_HINT, parseDuration } from "../daemon-config/duration.js";
import { RefusedError, UsageError } from "../errors.js";
import type { CommandContext } from "../program.js";
import {
  addIntentOptions,
  applyIntent,
  finishReport,
  jsonErrors,
  parseTimeout,
  parseVersion,
  type GoalCheck,
  type IntentOptions,
} from "./intent-command.js";
import { withOperator } from "./operator-context.js";
import { viewModel } from "./operator-view.js";

interface PinOptions extends IntentOptions {
  reason?: string;
  expires?: string;
}

export function registerPin(program: Command, ctx: CommandContext): void {
  const pin = program
    .command("pin")
    .description(
      "keep stable on VERSION (moving it there first, through the gates); new candidates are gated, not promoted",
    )
    .argument("<model>", "the model, as named in models.config")
    .argument("<version>", "the version stable stays on")
    .option("--reason <text>", "why (shown by status and history)")
    .option("--expires <duration>", "the pin ends by itself after this long, e.g. 2h, 1d");
  addIntentOptions(pin).action((model: string, versionArg: string, opts: PinOptions) =>
    jsonErrors(ctx, opts.json, "pin", model, async () => {
      const version = parseVersion(versionArg, "VERSION");
      const timeoutMs = parseTimeout(opts.timeout);
      const expiresInMs = opts.expires === undefined ? undefined : parseExpires(opts.expires);
      await withOperator(ctx, { ...opts }, "tfs-rollout pin", async (operator) => {
        const view = await viewModel(operator, model);
        const refusal = version === view.stable ? undefined : targetRefusal(view, version);
        if (refusal !== undefined)
          throw new RefusedError(`pin ${model} ${version} refused: ${refusal}; nothing was changed`, {
            hint: `pin a version that is on disk and not rejected; tfs-rollout status ${model} lists them`,
          });
        const report = await applyIntent(ctx, operator, {
          command: "pin",
          model,
          kind: "pin",
          args: {
            version,
            ...(opts.reason === undefined ? {} : { reason: opts.reason }),
            ...(expiresInMs === undefined ? {} : { expiresAt: Date.now() + expiresInMs }),
          },
          timeoutMs,
          goal: stableReaches(version),
        });
        finishReport(ctx, operator, report, opts.json);
      });
    }),
  );

  const unpin = program
    .command("unpin")
    .description("remove the pin: candidates are promoted again")
    .argument("<model>", "the model, as named in models.config");
  addIntentOptions(unpin).action((model: string, opts: IntentOptions) =>
    jsonErrors(ctx, opts.json, "unpin", model, async () => {
      const timeoutMs = parseTimeout(opts.timeout);
      await withOperator(ctx, { ...opts }, "tfs-rollout unpin", async (operator) => {
        const view = await viewModel(operator, model);
        const report = await applyIntent(ctx, operator, {
          command: "unpin",
          model,
          kind: "unpin",
          args: {},
          timeoutMs,
        });
        if (view.d.pin === undefined && report.outcome === "done") report.reason = "the model was not pinned";
        finishReport(ctx, operator, report, opts.json);
      });
    }),
  );
}

function parseExpires(text: string): number {
  const parsed = parseDuration(text);
  if (!parsed.ok || parsed.ms === 0)
    throw new UsageError(`--expires "${text}" ${parsed.ok ? "is zero" : parsed.reason}`, {
      where: "--expires",
      hint: DURATION_HINT,
    });
  return parsed.ms;
}

/** The pin is done once `stable` is on the pinned version; a pinned version that fails its way there fails. */
function stableReaches(version: string): GoalCheck {
  return (p) => {
    if (p.stable === version) return { outcome: "done", reason: `stable is pinned to ${version}` };
    if (p.reconcile === "waiting" && p.waitingFor?.startsWith("pinned") === true)
      return {
        outcome: "failed",
        reason: `pinned, but stable stays on ${p.stable ?? "unset"}: ${p.waitingFor}`,
      };
    if (p.reconcile === "converged")
      return { outcome: "failed", reason: `pinned, but stable is ${p.stable ?? "unset"}, not ${version}` };
    return undefined;
  };
}
