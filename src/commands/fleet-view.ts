/**
 * Fleet mode for operator commands (docs/fleet.md): `status` shows each model's fleet block (coordinator, live
 * members, the open or last rollout with its decision and every replica's report, etcd reachable or not), and
 * rollback, promote, pin and unpin act on the whole fleet by writing a fleet intent that every replica's daemon
 * copies into its own queue under the same id (a rollback also records the operator's override reject decision).
 *
 * A command never joins the fleet as its replica's daemon: it takes its own short-lived identity
 * `<replica>~cli-<pid>` (a member that is never ready, so it never votes, and never campaigns), and leaves on exit.
 */
import { hostname } from "node:os";
import type { DaemonConfig } from "../daemon-config/types.js";
import { fleetStable, openRollout } from "../controller/plan-fleet.js";
import { observeFleet } from "../engine/fleet-observe.js";
import { fleetSettings, openConfiguredFleet } from "../engine/fleet-session.js";
import type { FleetBackend, FleetRollout } from "../fleet/backend.js";
import { errorText } from "../gate/summary.js";
import { formatTime, renderTable } from "./table.js";

/** The marker of an operator command's fleet identity (hidden from the members shown). */
const CLI_MARK = "~cli-";

let injected: ((config: DaemonConfig, id: string) => FleetBackend) | undefined;

/** Tests: operator commands use this backend factory instead of the configured etcd. */
export function setCliFleetForTests(factory: typeof injected): void {
  injected = factory;
}

/** The daemon's replica id on this host (what its reports are filed under). */
export const replicaId = (config: DaemonConfig): string => config.coordination.replica ?? hostname();

export const inFleetMode = (config: DaemonConfig): boolean =>
  config.coordination.backend === "etcd" || injected !== undefined;

export interface CliFleet {
  backend: FleetBackend;
  /** Why it cannot be used, when joining failed (etcd unreachable). */
  problem?: string;
  close(): Promise<void>;
}

/** The command's own fleet client, joined (or with the reason it could not join); undefined in local mode. */
export async function openCliFleet(config: DaemonConfig): Promise<CliFleet | undefined> {
  if (!inFleetMode(config)) return undefined;
  const id = `${replicaId(config)}${CLI_MARK}${process.pid}`;
  const backend = injected ? injected(config, id) : await openConfiguredFleet(config, id);
  if (backend === undefined) return undefined;
  let problem: string | undefined;
  try {
    await backend.start();
  } catch (error) {
    problem = errorText(error);
  }
  return {
    backend,
    ...(problem === undefined ? {} : { problem }),
    close: () => backend.stop().catch(() => undefined),
  };
}

export interface FleetReportStatus {
  replica: string;
  phase: string;
  reason: string;
  at: string;
}

export interface FleetRolloutStatus {
  version: string;
  opened_at: string;
  opened_by: string;
  decision: { verdict: string; reason: string; at: string; by: string; override: boolean } | null;
  removed: { as: string; at: string; by: string } | null;
  reports: FleetReportStatus[];
}

export interface FleetStatus {
  replica: string;
  reachable: boolean;
  reason?: string;
  coordinator: string | null;
  /** The version the fleet promoted last. */
  stable: string | null;
  members: { replica: string; ready: boolean }[];
  /** The open rollout, else the newest one. */
  rollout: FleetRolloutStatus | null;
}

export async function fleetStatus(
  config: DaemonConfig,
  fleet: CliFleet,
  model: string,
): Promise<FleetStatus> {
  const replica = replicaId(config);
  if (fleet.problem !== undefined) return unreachable(replica, fleet.problem);
  const view = await observeFleet(fleet.backend, model, fleetSettings(config), replica);
  if (!view.reachable) return unreachable(replica, view.reason ?? "no answer");
  let rollouts: FleetRollout[];
  try {
    rollouts = await fleet.backend.rollouts(model);
  } catch (error) {
    return unreachable(replica, errorText(error));
  }
  const shown = openRollout(view)?.version ?? view.rollouts.at(-1)?.version;
  const rollout = rollouts.find((r) => r.version === shown);
  return {
    replica,
    reachable: true,
    coordinator: view.coordinatorId ?? null,
    stable: fleetStable(view) ?? null,
    members: view.members.filter((m) => !m.replica.includes(CLI_MARK)),
    rollout: rollout === undefined ? null : rolloutStatus(rollout),
  };
}

function unreachable(replica: string, reason: string): FleetStatus {
  return { replica, reachable: false, reason, coordinator: null, stable: null, members: [], rollout: null };
}

function rolloutStatus(r: FleetRollout): FleetRolloutStatus {
  return {
    version: r.version,
    opened_at: r.openedAt,
    opened_by: r.openedBy,
    decision: r.decision === undefined ? null : { ...r.decision, override: r.decision.override === true },
    removed: r.removed ?? null,
    reports: Object.values(r.reports)
      .sort((a, b) => a.replica.localeCompare(b.replica))
      .map((x) => ({ replica: x.replica, phase: x.phase, reason: x.reason, at: x.at })),
  };
}

export function renderFleetStatus(f: FleetStatus): string {
  if (!f.reachable)
    return `  fleet: etcd UNREACHABLE (${f.reason ?? "no answer"}): this replica (${f.replica}) keeps serving its stable; nothing is promoted or removed until etcd answers\n`;
  const members = f.members.map((m) => `${m.replica}${m.ready ? "" : " (not ready)"}`).join(", ");
  let out = `  fleet: replica ${f.replica}, coordinator ${f.coordinator ?? "none"}, fleet stable ${f.stable ?? "none"}, members ${members || "none"}\n`;
  const r = f.rollout;
  if (r === null) return `${out}  fleet rollout: none yet\n`;
  const decision =
    r.decision === null
      ? "undecided"
      : `${r.decision.verdict} by ${r.decision.by} at ${formatTime(r.decision.at)}${r.decision.override ? " (operator override)" : ""}: ${r.decision.reason}`;
  out += `  fleet rollout ${r.version}: opened by ${r.opened_by} at ${formatTime(r.opened_at)}; ${decision}`;
  out +=
    r.removed === null ? "\n" : `; removed from the shared store as ${r.removed.as} by ${r.removed.by}\n`;
  const reported = new Map(r.reports.map((x) => [x.replica, x]));
  const replicas = [...new Set([...f.members.map((m) => m.replica), ...reported.keys()])].sort();
  out += renderTable(
    ["REPLICA", "REPORT", "AT", "REASON"],
    replicas.map((id) => {
      const x = reported.get(id);
      return [id, x?.phase ?? "-", x ? formatTime(x.at) : "-", x?.reason ?? ""];
    }),
    "    ",
  );
  return out;
}
