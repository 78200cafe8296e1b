/**
 * `tfs-rollout plan [MODEL]`: a DRY RUN of the next reconcile. For each model, the pure simulator
 * (controller/simulate.ts) plays plan() step after step on what is observed now, assuming every step succeeds,
 * until the model converges, waits, or `--max-steps` is reached; the output lists the steps, what would be
 * admitted, loaded, promoted, rolled back or reclaimed, and the exact models.config diff, made with the same
 * comment-preserving editor the config steps use (never written). Admission is judged in one look
 * (dry-admission.ts: complete and quiet by mtime, or marker present), and the output says so.
 * Touches nothing: no file is written, no lock taken, no intent consumed, TF Serving only asked GetModelStatus.
 *
 * Exit codes: 0 planned; 1 a model did not converge within --max-steps; 2 usage; 3 TF Serving unreachable.
 */
import type { Command } from "commander";
import { simulate, DEFAULT_SIMULATION_STEPS, type Simulation } from "../controller/simulate.js";
import type { ModelPolicy, Step } from "../controller/types.js";
import { samePolicy } from "../controller/versions.js";
import { ExitCode, UsageError } from "../errors.js";
import { editModelConfig } from "../modelconfig/edit.js";
import type { CommandContext } from "../program.js";
import { describeStep, versionOf } from "./audit.js";
import { printJson } from "./io.js";
import { addLookOptions, lookAtModel, selectModels, unreachableNote, withLook, type Look } from "./look.js";
import { clipText, renderTable } from "./table.js";
import { unifiedDiff } from "./unified-diff.js";

export interface PlannedStep {
  kind: string;
  version?: string;
  what: string;
  reason: string;
  step: Step;
}

export interface PlanSummary {
  adopted: boolean;
  admitted: string[];
  skipped: string[];
  loaded: string[];
  gated: string[];
  promoted: string[];
  rolled_back: string[];
  quarantined: string[];
  rejected: string[];
  /** Unloaded (trimmed from `specific`); their directories stay. */
  unloaded: string[];
  /** Directories deleted by retention. */
  reclaimed: string[];
}

export interface ModelPlan {
  model: string;
  steps: PlannedStep[];
  end: { kind: Simulation["end"]["kind"]; reason: string };
  summary: PlanSummary;
  /** How the dry run judged admission of versions not yet decided. */
  admission: { version: string; admission: string; detail?: string }[];
  before?: { specific?: string[]; labels: Record<string, string> };
  after?: ModelPolicy;
  tf_serving_reachable: boolean;
  /** A live process (the daemon) holding the model's lock: it may be applying a step right now. */
  busy?: { command: string; pid: number; hostname: string; since: string };
}

export const DRY_RUN_NOTE =
  "dry run: nothing was changed; every step is assumed to succeed (loads become AVAILABLE, gates pass); " +
  "admission judged in one look (complete and unchanged for the quiet window by mtime, or marker file present)";

export function registerPlan(program: Command, ctx: CommandContext): void {
  const command = program
    .command("plan")
    .description(
      "dry run of the next reconcile: the steps, and the exact models.config diff; changes nothing",
    )
    .argument("[model]", "only this model (default: every managed model)")
    .option(
      "--max-steps <n>",
      `stop simulating a model after this many steps (default ${DEFAULT_SIMULATION_STEPS})`,
    );
  addLookOptions(command);
  command.action(async (model: string | undefined, opts: Record<string, unknown>) => {
    const maxSteps = parseMaxSteps(opts.maxSteps);
    await withLook(ctx, opts, async (look) => {
      const result = await planAll(look, model, maxSteps);
      if (opts.json === true) printJson(ctx.io, result);
      else ctx.io.stdout(renderPlan(result));
      const down = result.models.some((m) => !m.tf_serving_reachable);
      if (down) {
        ctx.io.stderr(
          unreachableNote(look, "GetModelStatus failed; nothing can be planned until it answers"),
        );
        ctx.result.code = ExitCode.unreachable;
      } else if (result.models.some((m) => m.end.kind === "limit")) ctx.result.code = ExitCode.failed;
    });
  });
}

function parseMaxSteps(value: unknown): number {
  if (value === undefined) return DEFAULT_SIMULATION_STEPS;
  const n = typeof value === "string" && /^\d+$/.test(value) ? Number(value) : NaN;
  if (!Number.isSafeInteger(n) || n < 1 || n > 10_000)
    throw new UsageError(`--max-steps must be a whole number from 1 to 10000, not ${JSON.stringify(value)}`, {
      hint: "for example --max-steps 20",
    });
  return n;
}

export interface PlanOutput {
  note: string;
  tf_serving: { address: string };
  model_config_file: string;
  models: ModelPlan[];
  /** Unified diff of models.config from now to after the simulated steps; empty when unchanged. */
  config_diff: string;
}

export async function planAll(look: Look, model: string | undefined, maxSteps: number): Promise<PlanOutput> {
  const path = look.config.model_config_file;
  const before = look.models.text;
  let after = before;
  const models: ModelPlan[] = [];
  for (const name of await selectModels(look, model, false)) {
    const seen = await lookAtModel(look, name);
    const sim = simulate(seen.desired, seen.observed, seen.planOptions, maxSteps);
    const config = seen.observed.config;
    const current =
      config === undefined
        ? undefined
        : {
            ...(config.policy.kind === "specific" ? { specific: config.policy.versions } : {}),
            labels: config.labels,
          };
    const changed =
      sim.finalPolicy !== undefined &&
      (current?.specific === undefined ||
        !samePolicy(sim.finalPolicy, { specific: current.specific, labels: current.labels }));
    if (changed && sim.finalPolicy !== undefined) {
      after = editModelConfig(after, path, name, {
        policy: { specific: { versions: sim.finalPolicy.specific } },
        labels: sim.finalPolicy.labels,
      });
    }
    models.push({
      model: name,
      steps: sim.steps.map(({ step, reason }) => {
        const version = versionOf(step);
        return {
          kind: step.kind,
          ...(version === undefined ? {} : { version }),
          what: describeStep(step, "planned"),
          reason,
          step,
        };
      }),
      end: { kind: sim.end.kind, reason: sim.end.reason },
      summary: summarize(sim),
      admission: seen.disk
        .filter((d) => d.admission !== "unchecked" && seen.desired.verdicts[d.version] === undefined)
        .map((d) => ({
          version: d.version,
          admission: d.admission,
          ...(d.detail ? { detail: d.detail } : {}),
        })),
      ...(current === undefined ? {} : { before: current }),
      ...(changed && sim.finalPolicy !== undefined ? { after: sim.finalPolicy } : {}),
      tf_serving_reachable: seen.observed.status.kind === "reachable",
      ...(seen.holder === undefined ? {} : { busy: seen.holder }),
    });
  }
  return {
    note: DRY_RUN_NOTE,
    tf_serving: { address: look.config.tf_serving.grpc_address },
    model_config_file: path,
    models,
    config_diff: unifiedDiff(before, after, path, `${path} (after the planned steps)`),
  };
}

function summarize(sim: Simulation): PlanSummary {
  const s: PlanSummary = {
    adopted: false,
    admitted: [],
    skipped: [],
    loaded: [],
    gated: [],
    promoted: [],
    rolled_back: [],
    quarantined: [],
    rejected: [],
    unloaded: [],
    reclaimed: [],
  };
  for (const { step } of sim.steps) {
    switch (step.kind) {
      case "adopt":
        s.adopted = true;
        break;
      case "admit":
        s.admitted.push(step.candidate);
        s.skipped.push(...step.skipped);
        break;
      case "load":
        s.loaded.push(step.version);
        break;
      case "gate":
        s.gated.push(step.version);
        break;
      case "promote":
        s.promoted.push(step.version);
        break;
      case "rollback-config":
        s.rolled_back.push(...step.removed);
        break;
      case "quarantine":
        s.quarantined.push(
          step.action === "delete" ? `${step.dirName} (deleted)` : `${step.dirName} → ${step.newName}`,
        );
        break;
      case "record-verdict":
        if (step.verdict === "rejected") s.rejected.push(step.version);
        if (step.verdict === "skipped") s.skipped.push(step.version);
        break;
      case "trim":
        s.unloaded.push(...step.dropped);
        break;
      default:
        if (step.kind === "reclaim") s.reclaimed.push(...step.entries.map((e) => e.dirName));
    }
  }
  return s;
}

export function renderPlan(output: PlanOutput): string {
  let out = `${output.note}\n`;
  for (const m of output.models) {
    out += `\nPLAN ${m.model}\n`;
    if (m.busy !== undefined)
      out += `  note: ${m.busy.command} (pid ${m.busy.pid} on ${m.busy.hostname}) is working on ${m.model} right now; the dry run starts from what is journaled\n`;
    for (const a of m.admission)
      out += `  admission: ${a.version} ${a.admission}${a.detail ? ` (${a.detail})` : ""}\n`;
    if (m.steps.length > 0) {
      out += renderTable(
        ["#", "STEP", "VERSION", "WHAT", "WHY"],
        m.steps.map((s, i) => [
          String(i + 1),
          s.kind,
          s.version ?? "-",
          clipText(s.what, 70),
          clipText(s.reason, 80),
        ]),
        "  ",
      );
    } else out += "  no step\n";
    const then =
      m.end.kind === "converged" ? "then converged" : m.end.kind === "wait" ? "then waits" : "stops";
    out += `  ${then}: ${m.end.reason}\n`;
    const s = m.summary;
    const parts = [
      ["admit", s.admitted],
      ["skip", s.skipped],
      ["load", s.loaded],
      ["gate", s.gated],
      ["promote", s.promoted],
      ["roll back", s.rolled_back],
      ["quarantine", s.quarantined],
      ["reject", s.rejected],
      ["unload", s.unloaded],
      ["reclaim (delete)", s.reclaimed],
    ] as const;
    const would = [
      ...(s.adopted ? ["adopt the model (specific policy, stable label)"] : []),
      ...parts.filter(([, list]) => list.length > 0).map(([what, list]) => `${what} ${list.join(", ")}`),
    ];
    out += `  would: ${would.length > 0 ? would.join("; ") : "change nothing"}\n`;
  }
  out +=
    output.config_diff === ""
      ? "\nmodels.config: no change\n"
      : `\nmodels.config diff:\n${output.config_diff}`;
  return out;
}
