/**
 * `tfs-rollout status [MODEL]`: per model, the labels and policy in models.config, every version known anywhere
 * (on disk, in the journal's verdicts, listed, or reported by TF Serving) with its verdict, admission and TF
 * Serving state, the pin, the step in flight, what the model waits for next (the pure plan() on what is observed
 * now: its reason) and the last events, including the last gate result. Reads only; safe with the daemon running.
 *
 * Exit codes: 0 shown; 3 TF Serving unreachable (everything else is still shown, its state column says
 * "unreachable" and stderr names the address tried); 2 unknown model or bad flags.
 */
import type { Command } from "commander";
import { plan } from "../controller/plan.js";
import type { ObservedPolicy, Pin, Step } from "../controller/types.js";
import { compareVersions } from "../controller/versions.js";
import { ExitCode } from "../errors.js";
import type { CommandContext } from "../program.js";
import { describeStep, gateCheckLines, gateSummary, type AuditEvent, type GateReport } from "./audit.js";
import { modelEvents } from "./history.js";
import { printJson } from "./io.js";
import { addLookOptions, lookAtModel, selectModels, unreachableNote, withLook, type Look } from "./look.js";
import { clipText, formatTime, renderTable } from "./table.js";
import {
  fleetStatus,
  openCliFleet,
  renderFleetStatus,
  replicaId,
  type CliFleet,
  type FleetStatus,
} from "./fleet-view.js";
import { observeFleet, unreachableView } from "../engine/fleet-observe.js";
import { fleetSettings } from "../engine/fleet-session.js";

/** Events shown per model. */
const RECENT_EVENTS = 5;
/** Journal events searched back for the last gate result. */
const GATE_SEARCH = 500;

export interface StatusVersion {
  version: string;
  /** The directory name on disk, when the version is there. */
  dir?: string;
  admission?: string;
  admission_detail?: string;
  verdict?: string;
  verdict_reason?: string;
  verdict_by?: string;
  verdict_at?: string;
  /** Where a rejected version's directory went (a `.rejected-*` name, or "deleted"). */
  quarantined_as?: string;
  /** Listed in the model's `specific` policy. */
  listed: boolean;
  labels: string[];
  tf_state?: string;
  tf_error?: string;
}

export interface LastGate {
  version: string;
  passed: boolean;
  at: string;
  summary: string;
  report?: GateReport;
}

export interface ModelStatus {
  model: string;
  in_models_config: boolean;
  base_path?: string;
  policy?: ObservedPolicy;
  labels: Record<string, string>;
  stable: string | null;
  tf_serving: { reachable: true } | { reachable: false; address: string; reason: string };
  disk_problem?: string;
  versions: StatusVersion[];
  pin: (Pin & { active: boolean }) | null;
  in_flight: { id: string; step: Step; what: string; started_at: string } | null;
  /** The live process working on the model right now (holding its lock), if any. */
  busy: { command: string; pid: number; hostname: string; since: string } | null;
  pending_intents: { id: string; kind: string; by: string; at: string; args: unknown }[];
  /** What plan() would do next on what is observed now; "running" while a live process applies the step in flight. */
  next: { kind: "converged" | "step" | "wait" | "running"; reason: string; step?: Step };
  last_gate: LastGate | null;
  events: AuditEvent[];
  /** Fleet mode only: the fleet's view of the model (coordinator, members, rollout, reports, etcd reachable). */
  fleet?: FleetStatus;
}

export function registerStatus(program: Command, ctx: CommandContext): void {
  const command = program
    .command("status")
    .description(
      "per model: labels, versions with verdicts and TF Serving state, pin, step in flight, what's next",
    )
    .argument("[model]", "only this model (default: every model)");
  addLookOptions(command);
  command.action(async (model: string | undefined, opts: Record<string, unknown>) => {
    await withLook(ctx, opts, async (look) => {
      const models: ModelStatus[] = [];
      const fleet = await openCliFleet(look.config);
      try {
        for (const name of await selectModels(look, model)) models.push(await modelStatus(look, name, fleet));
      } finally {
        await fleet?.close();
      }
      const fleetDown = models.find((m) => m.fleet?.reachable === false)?.fleet;
      const down = models.find((m) => !m.tf_serving.reachable)?.tf_serving;
      if (opts.json === true) {
        printJson(ctx.io, {
          tf_serving: { address: look.config.tf_serving.grpc_address, reachable: down === undefined },
          models,
        });
      } else ctx.io.stdout(renderStatus(models));
      if (down !== undefined && !down.reachable) {
        ctx.io.stderr(unreachableNote(look, down.reason));
        ctx.result.code = ExitCode.unreachable;
      }
      if (fleetDown !== undefined) {
        ctx.io.stderr(
          `etcd is unreachable (${fleetDown.reason ?? "no answer"}): coordination.etcd.endpoints ${look.config.coordination.etcd.endpoints.join(", ")}\n`,
        );
        ctx.result.code = ExitCode.unreachable;
      }
    });
  });
}

export async function modelStatus(look: Look, model: string, fleet?: CliFleet): Promise<ModelStatus> {
  const seen = await lookAtModel(look, model);
  if (fleet !== undefined) {
    const settings = fleetSettings(look.config);
    const replica = replicaId(look.config);
    seen.desired.fleet =
      fleet.problem === undefined
        ? await observeFleet(fleet.backend, model, settings, replica)
        : unreachableView(replica, settings, fleet.problem);
  }
  const { observed, desired, record } = seen;
  const config = observed.config;
  const stableLabel = seen.planOptions.stableLabel;
  const statuses =
    observed.status.kind === "reachable"
      ? new Map(observed.status.versions.map((s) => [s.version, s]))
      : undefined;
  const listed = config?.policy.kind === "specific" ? config.policy.versions : [];
  const labels = config?.labels ?? {};
  const storeVerdicts = new Map(seen.verdictStore.map((v) => [v.version, v]));
  const disk = new Map(seen.disk.map((d) => [d.version, d]));
  const all = new Set<string>([
    ...disk.keys(),
    ...Object.keys(record.verdicts),
    ...storeVerdicts.keys(),
    ...listed,
    ...Object.values(labels),
    ...(statuses?.keys() ?? []),
  ]);
  const versions = [...all]
    .filter((v) => /^-?\d+$/.test(v))
    .sort((a, b) => compareVersions(b, a))
    .map((version): StatusVersion => {
      const d = disk.get(version);
      const verdict = record.verdicts[version];
      const stored = storeVerdicts.get(version);
      const tf = statuses?.get(version);
      const quarantined = verdict?.quarantinedAs ?? record.progress[version]?.quarantinedAs;
      return {
        version,
        ...(d === undefined ? {} : { dir: d.dirName }),
        ...(d === undefined || d.admission === "unchecked" ? {} : { admission: d.admission }),
        ...(d?.detail === undefined ? {} : { admission_detail: d.detail }),
        ...(verdict !== undefined
          ? {
              verdict: verdict.verdict,
              verdict_reason: verdict.reason,
              verdict_by: verdict.by,
              verdict_at: new Date(verdict.at).toISOString(),
            }
          : stored !== undefined
            ? {
                verdict: stored.verdict,
                verdict_reason: stored.reason,
                verdict_by: stored.by,
                verdict_at: stored.at,
              }
            : {}),
        ...(quarantined === undefined ? {} : { quarantined_as: quarantined }),
        listed: listed.includes(version),
        labels: Object.entries(labels)
          .filter(([, v]) => v === version)
          .map(([k]) => k),
        ...(tf === undefined ? {} : { tf_state: tf.state }),
        ...(tf !== undefined && tf.error_code !== "OK"
          ? { tf_error: `${tf.error_code}: ${tf.error_message}` }
          : {}),
      };
    });
  const next = plan(desired, observed, seen.planOptions);
  const nextStep = next.steps[0];
  const events = await modelEvents(look, model, GATE_SEARCH);
  const pin = record.pin;
  return {
    model,
    in_models_config: config !== undefined,
    ...(config === undefined ? {} : { base_path: config.basePath, policy: config.policy }),
    labels,
    stable: labels[stableLabel] ?? null,
    tf_serving:
      observed.status.kind === "reachable"
        ? { reachable: true }
        : { reachable: false, address: look.config.tf_serving.grpc_address, reason: observed.status.reason },
    ...(seen.diskProblem === undefined ? {} : { disk_problem: seen.diskProblem }),
    versions,
    pin:
      pin === undefined
        ? null
        : { ...pin, active: pin.expiresAt === undefined || pin.expiresAt > observed.now },
    in_flight:
      seen.inFlight === undefined
        ? null
        : {
            id: seen.inFlight.id,
            step: seen.inFlight.step,
            what: describeStep(seen.inFlight.step, "in-flight"),
            started_at: new Date(seen.inFlight.startedAt).toISOString(),
          },
    pending_intents: seen.storedIntents.map((i) => ({
      id: i.id,
      kind: i.kind,
      by: i.by,
      at: i.at,
      args: i.args,
    })),
    busy: seen.holder ?? null,
    next:
      seen.inFlight !== undefined && seen.holder !== undefined
        ? {
            kind: "running",
            reason: `${seen.holder.command} (pid ${seen.holder.pid} on ${seen.holder.hostname}) is applying the step in flight`,
            step: seen.inFlight.step,
          }
        : nextStep === undefined
          ? { kind: "converged", reason: next.reason }
          : nextStep.kind === "wait"
            ? { kind: "wait", reason: next.reason, step: nextStep }
            : { kind: "step", reason: next.reason, step: nextStep },
    last_gate: lastGate(events, record.progress),
    events: events.slice(0, RECENT_EVENTS),
    ...(fleet === undefined ? {} : { fleet: await fleetStatus(look.config, fleet, model) }),
  };
}

function lastGate(
  events: AuditEvent[],
  progress: Record<string, { gate?: { passed: boolean; reason: string; at: number } }>,
): LastGate | null {
  const event = events.find((e) => e.step === "gate" && e.outcome !== "in-flight");
  if (event !== undefined) {
    return {
      version: event.version ?? "?",
      passed: event.outcome === "ok",
      at: event.at,
      summary: event.gate !== undefined ? gateSummary(event.gate) : event.reason,
      ...(event.gate === undefined ? {} : { report: event.gate }),
    };
  }
  const gated = Object.entries(progress)
    .filter(([, p]) => p.gate !== undefined)
    .sort(([, a], [, b]) => (b.gate?.at ?? 0) - (a.gate?.at ?? 0))[0];
  if (gated === undefined || gated[1].gate === undefined) return null;
  const g = gated[1].gate;
  return { version: gated[0], passed: g.passed, at: new Date(g.at).toISOString(), summary: g.reason };
}

export function renderStatus(models: ModelStatus[]): string {
  if (models.length === 0) return "no models: models.config lists none and the state directory has none\n";
  return models.map(renderModel).join("\n");
}

function renderModel(m: ModelStatus): string {
  const labels = Object.entries(m.labels)
    .map(([k, v]) => `${k}=${v}`)
    .join(" ");
  const policy =
    m.policy === undefined
      ? "not in models.config"
      : m.policy.kind === "specific"
        ? `specific [${m.policy.versions.join(", ")}]`
        : m.policy.kind === "latest"
          ? `latest ${m.policy.numVersions}`
          : "all";
  const tf = m.tf_serving.reachable ? "reachable" : `UNREACHABLE at ${m.tf_serving.address}`;
  let out = `MODEL ${m.model}  ${labels || "no labels"}  policy ${policy}  TF Serving ${tf}\n`;
  if (m.disk_problem !== undefined) out += `  disk: ${m.disk_problem}\n`;
  const rows = m.versions.map((v) => [
    v.version,
    v.dir ?? (v.quarantined_as ? `(${v.quarantined_as})` : "-"),
    v.admission ?? "-",
    v.verdict ?? "none yet",
    m.tf_serving.reachable ? (v.tf_state ?? "-") : "unreachable",
    [v.listed ? "listed" : "", ...v.labels].filter((s) => s !== "").join(",") || "-",
    clipText(v.tf_error ?? v.verdict_reason ?? v.admission_detail ?? "", 90),
  ]);
  out +=
    rows.length === 0
      ? "  no versions\n"
      : renderTable(["VERSION", "DISK", "ADMISSION", "VERDICT", "TF SERVING", "CONFIG", "NOTE"], rows, "  ");
  const pin = m.pin;
  out += `  pin: ${
    pin === null
      ? "none"
      : `${pin.version} by ${pin.by}${pin.reason ? ` (${pin.reason})` : ""}${
          pin.expiresAt !== undefined ? `, expires ${formatTime(pin.expiresAt)}` : ""
        }${pin.active ? "" : " (expired)"}`
  }\n`;
  out += `  in flight: ${m.in_flight === null ? "none" : `${m.in_flight.what} since ${formatTime(m.in_flight.started_at)}`}\n`;
  if (m.pending_intents.length > 0)
    out += `  pending intents: ${m.pending_intents.map((i) => `${i.kind} by ${i.by}`).join(", ")}\n`;
  if (m.fleet !== undefined) out += renderFleetStatus(m.fleet);
  out += `  next: ${m.next.kind === "step" && m.next.step ? `${describeStep(m.next.step, "planned")} — ` : ""}${m.next.reason}\n`;
  if (m.last_gate !== null) {
    const g = m.last_gate;
    out += `  last gate: ${g.version} ${g.passed ? "passed" : "FAILED"} at ${formatTime(g.at)}: ${clipText(g.summary, 120)}\n`;
    if (g.report !== undefined && !g.passed)
      for (const line of gateCheckLines(g.report).filter((l) => l.startsWith("  FAIL"))) out += `  ${line}\n`;
  }
  if (m.events.length > 0) {
    out += "  recent events:\n";
    out += renderTable(
      ["TIME", "VERSION", "BY", "EVENT"],
      m.events.map((e) => [
        formatTime(e.at),
        e.version ?? "-",
        e.by,
        clipText(e.reason === "" ? e.what : `${e.what}: ${e.reason}`, 110),
      ]),
      "    ",
    );
  }
  return out;
}
