/**
 * `tfs-rollout promote MODEL [VERSION] [--skip-gates]`: promotes VERSION (default: the candidate under way, else
 * the newest version above stable) through its gates now, or without them with --skip-gates (a loud warning here,
 * and journaled by the controller). A promote intent also releases a candidate held for a window or an approval.
 */
import type { Command } from "commander";
import type { CommandContext } from "../program.js";
import {
  addIntentOptions,
  applyIntent,
  finishReport,
  jsonErrors,
  parseTimeout,
  parseVersion,
  type IntentOptions,
} from "./intent-command.js";
import { withOperator } from "./operator-context.js";
import { viewModel } from "./operator-view.js";

interface PromoteOptions extends IntentOptions {
  skipGates?: boolean;
}

export function registerPromote(program: Command, ctx: CommandContext): void {
  const command = program
    .command("promote")
    .description(
      "run the gates on a version now and move stable to it (default: the candidate, else the newest version above stable)",
    )
    .argument("<model>", "the model, as named in models.config")
    .argument("[version]", "the version to promote")
    .option("--skip-gates", "promote WITHOUT running the gates (logged as a warning and journaled)");
  addIntentOptions(command).action((model: string, versionArg: string | undefined, opts: PromoteOptions) =>
    jsonErrors(ctx, opts.json, "promote", model, async () => {
      const version = versionArg === undefined ? undefined : parseVersion(versionArg, "VERSION");
      const timeoutMs = parseTimeout(opts.timeout);
      const skipGates = opts.skipGates === true;
      await withOperator(ctx, { ...opts }, "tfs-rollout promote", async (operator) => {
        await viewModel(operator, model);
        if (skipGates)
          operator.log.warn(
            { model, ...(version === undefined ? {} : { version }), skip_gates: true },
            `promoting ${model} ${version ?? "(candidate)"} WITHOUT GATES on operator request`,
          );
        const report = await applyIntent(ctx, operator, {
          command: "promote",
          model,
          kind: "promote",
          args: { ...(version === undefined ? {} : { version }), skipGates },
          timeoutMs,
        });
        finishReport(ctx, operator, report, opts.json, { skipGates });
      });
    }),
  );
}
