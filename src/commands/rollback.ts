/**
 * `tfs-rollout rollback MODEL [--to VERSION] [--delete] [--yes]`: moves `stable` back to the previous promoted
 * version (or VERSION), verifies it resolves there, then rolls the newer versions off disk (renamed, or deleted
 * with --delete) and rejects them. The plan is computed first with the controller's own validation
 * (startRollback on the observed state) and printed; a terminal is asked to confirm unless --yes, and without a
 * terminal nothing happens without --yes (exit 4). Then the rollback intent is recorded and applied.
 */
import type { Command } from "commander";
import { startRollback } from "../controller/plan-intents.js";
import type { Ctx } from "../controller/plan-context.js";
import type { QuarantineAction, Version } from "../controller/types.js";
import { isAvailable } from "../controller/versions.js";
import { RefusedError } from "../errors.js";
import type { CommandContext } from "../program.js";
import { confirm } from "./confirm.js";
import {
  addIntentOptions,
  applyIntent,
  finishReport,
  jsonErrors,
  operatorActor,
  parseTimeout,
  parseVersion,
  type IntentOptions,
} from "./intent-command.js";
import { printJson } from "./io.js";
import { withOperator } from "./operator-context.js";
import { viewModel } from "./operator-view.js";

interface RollbackOptions extends IntentOptions {
  to?: string;
  delete?: boolean;
  yes?: boolean;
}

export interface RollbackPlan {
  model: string;
  stable: Version;
  target: Version;
  /** The target is listed and AVAILABLE: the label moves back at once; otherwise it is loaded first. */
  targetLoaded: boolean;
  action: QuarantineAction;
  reject: { version: Version; listed: boolean; dirName?: string }[];
}

export function registerRollback(program: Command, ctx: CommandContext): void {
  const command = program
    .command("rollback")
    .description(
      "move stable back to the previous promoted version (or --to VERSION), verify it, then roll the newer versions off disk and reject them",
    )
    .argument("<model>", "the model, as named in models.config")
    .option("--to <version>", "the version to roll back to (default: the previous promoted version)")
    .option("--delete", "delete the rolled-back versions' directories instead of renaming them")
    .option("--yes", "apply without asking (required when there is no terminal)");
  addIntentOptions(command).action((model: string, opts: RollbackOptions) =>
    jsonErrors(ctx, opts.json, "rollback", model, async () => {
      const to = opts.to === undefined ? undefined : parseVersion(opts.to, "--to");
      const timeoutMs = parseTimeout(opts.timeout);
      const action: QuarantineAction = opts.delete === true ? "delete" : "rename";
      await withOperator(ctx, { ...opts }, "tfs-rollout rollback", async (operator) => {
        const view = await viewModel(operator, model);
        const plan = rollbackPlan(view, to, action, operatorActor(ctx.io.env));
        if (typeof plan === "string") {
          throw new RefusedError(`rollback ${model} refused: ${plan}; nothing was changed`, {
            hint: `tfs-rollout status ${model} shows the versions, their verdicts and TF Serving's state`,
          });
        }
        const earlier = await operator.engine.state.intents.pending(model);
        const text =
          renderPlan(plan) +
          (earlier.length === 0
            ? ""
            : `  note: ${earlier.length} earlier intent(s) for ${model} (${earlier.map((i) => i.kind).join(", ")}) are applied first\n`);
        if (opts.json === true) ctx.io.stderr(text);
        else ctx.io.stdout(text);
        const confirmed = await confirm(
          ctx.io,
          `Roll ${model} back to ${plan.target}?`,
          `rollback of ${model}`,
          opts.yes,
        );
        if (!confirmed) {
          if (opts.json === true)
            printJson(ctx.io, { command: "rollback", model, outcome: "cancelled", plan, intent: null });
          ctx.io.stderr("rollback cancelled: nothing was changed\n");
          ctx.result.code = 1;
          return;
        }
        const report = await applyIntent(ctx, operator, {
          command: "rollback",
          model,
          kind: "rollback",
          // The confirmed target, not "the previous one": a second rollback queued behind an unfinished one must
          // not roll back one version further.
          args: { to: plan.target, action },
          timeoutMs,
          fleetReject: {
            versions: plan.reject.map((r) => r.version),
            reason: `operator rollback to ${plan.target}`,
          },
        });
        finishReport(ctx, operator, report, opts.json, { plan });
      });
    }),
  );
}

/** The rollback the controller would start now, or why it refuses. */
export function rollbackPlan(
  view: Ctx,
  to: Version | undefined,
  action: QuarantineAction,
  by: string,
): RollbackPlan | string {
  let refusal: string | undefined;
  const result = startRollback(
    view,
    { id: "preview", by, at: view.o.now, kind: "rollback", ...(to === undefined ? {} : { to }), action },
    (reason) => {
      refusal = reason;
      return { steps: [], reason };
    },
  );
  const step = result.steps[0];
  if (refusal !== undefined || step?.kind !== "start-rollback") return refusal ?? result.reason;
  const listed = view.current?.specific ?? [];
  return {
    model: view.model,
    stable: view.stable ?? "",
    target: step.target,
    targetLoaded: listed.includes(step.target) && isAvailable(view.statuses, step.target),
    action: step.action,
    reject: step.reject.map((version) => {
      const dirName = view.disk.get(version)?.dirName;
      return { version, listed: listed.includes(version), ...(dirName === undefined ? {} : { dirName }) };
    }),
  };
}

export function renderPlan(plan: RollbackPlan): string {
  const how = plan.targetLoaded
    ? `${plan.target} is loaded and AVAILABLE: the label moves back at once`
    : `${plan.target} is not loaded: it is loaded first and must become AVAILABLE`;
  const lines = [
    `Rollback plan for model ${plan.model}:`,
    `  stable: ${plan.stable} → ${plan.target} (${how})`,
    `  then: check that stable resolves to ${plan.target}`,
  ];
  for (const v of plan.reject) {
    const parts = [v.listed ? "removed from models.config" : undefined];
    if (v.dirName !== undefined)
      parts.push(
        plan.action === "delete"
          ? `directory ${v.dirName} DELETED`
          : `directory ${v.dirName} renamed to .rejected-${v.version}-<time>`,
      );
    parts.push("marked rejected (never re-admitted unless retried)");
    lines.push(`  reject ${v.version}: ${parts.filter(Boolean).join("; ")}`);
  }
  if (plan.reject.length === 0) lines.push("  no newer version to reject");
  return `${lines.join("\n")}\n`;
}
