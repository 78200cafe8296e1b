/**
 * `tfs-rollout retry MODEL VERSION`: clears the rejected, skipped or incomplete verdict of VERSION (renaming its
 * directory back from `.rejected-<v>-<ts>` when quarantine renamed it) so the version is considered again, then
 * keeps reconciling until the model settles: a retried version newer than stable is rolled out again.
 */
import type { Command } from "commander";
import { loadControllerState } from "../engine/controller-state.js";
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
import { withOperator, type Operator } from "./operator-context.js";
import { viewModel } from "./operator-view.js";

/** Waits that end by themselves soon: the retried version is still on its way. */
const TRANSIENT_WAITS = ["admission-pending", "unloading", "unreachable", "nothing-available"];

export function registerRetry(program: Command, ctx: CommandContext): void {
  const command = program
    .command("retry")
    .description("clear a version's rejection (restoring its renamed directory) so it is considered again")
    .argument("<model>", "the model, as named in models.config")
    .argument("<version>", "the rejected, skipped or incomplete version");
  addIntentOptions(command).action((model: string, versionArg: string, opts: IntentOptions) =>
    jsonErrors(ctx, opts.json, "retry", model, async () => {
      const version = parseVersion(versionArg, "VERSION");
      const timeoutMs = parseTimeout(opts.timeout);
      await withOperator(ctx, { ...opts }, "tfs-rollout retry", async (operator) => {
        await viewModel(operator, model);
        const report = await applyIntent(ctx, operator, {
          command: "retry",
          model,
          kind: "retry",
          args: { version },
          timeoutMs,
          goal: settled(operator, model, version),
        });
        finishReport(ctx, operator, report, opts.json);
      });
    }),
  );
}

/** Done once the model converged or waits for something other than the retried version's way in. */
function settled(operator: Operator, model: string, version: string): GoalCheck {
  return async (p) => {
    const transient = TRANSIENT_WAITS.some((w) => p.waitingFor?.startsWith(`${w}:`) === true);
    if (p.reconcile !== "converged" && (p.reconcile !== "waiting" || transient)) return undefined;
    const { record } = await loadControllerState(operator.engine.state.journal, model);
    const verdict = record.verdicts[version];
    if (verdict?.verdict === "rejected")
      return { outcome: "failed", reason: `${version} was retried and rejected again: ${verdict.reason}` };
    const now = verdict === undefined ? "not judged yet" : verdict.verdict;
    return {
      outcome: "done",
      reason: `${p.consumed.reason}; ${version} is now ${now}${p.waitingFor ? ` (${p.waitingFor})` : ""}`,
    };
  };
}
