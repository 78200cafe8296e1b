/**
 * The fleet path of rollback, promote, pin and unpin (docs/fleet.md, "Operator's fleet intents"): the intent goes
 * to the fleet (`intents/<model>/<id>`), not to this replica's queue, and this command drives nothing itself:
 * every replica's daemon copies the intent into its own queue under the same id and applies it there. A rollback
 * also records the operator's override reject decision on every version it takes out, a promote the operator's
 * promote decision (the named version, else the open rollout), so that replicas that were down and the
 * coordinator (which takes a rejected directory off the shared store once every replica unloaded it) follow; a
 * pin or unpin also becomes the model's pin state (`pins/<model>`), which a replica that was down applies on return.
 * The command then waits for this replica's daemon to consume the intent, as in local mode.
 */
import { RefusedError, UnreachableError } from "../errors.js";
import type { FleetIntent } from "../fleet/backend.js";
import type { Intent, JsonValue } from "../state/store.js";
import type { CliFleet } from "./fleet-view.js";

export const FLEET_KINDS = new Set(["rollback", "promote", "pin", "unpin"]);

export interface FleetIntentRequest {
  model: string;
  kind: string;
  args: { [key: string]: JsonValue };
  by: string;
  /** A rollback's override reject decisions: the versions it takes out (`stable` and every newer one). */
  reject?: { versions: string[]; reason: string };
}

/** Records the fleet intent (and a rollback's override decision); returns it in the local queue's form. */
export async function putFleetIntent(fleet: CliFleet, request: FleetIntentRequest): Promise<Intent> {
  if (!FLEET_KINDS.has(request.kind))
    throw new RefusedError(`${request.kind} is not a fleet-wide command`, {
      hint: "in fleet mode the fleet's verdicts are final: publish the fixed model under a new version number",
    });
  if (fleet.problem !== undefined)
    throw new UnreachableError(`etcd is unreachable: ${fleet.problem}; nothing was recorded`, {
      where: "coordination.etcd.endpoints",
      hint: "the replicas keep serving their stable; run the command again once etcd answers",
    });
  const args = { ...request.args };
  if (request.kind === "promote") args.version = await promoteDecision(fleet, request);
  for (const version of request.reject?.versions ?? []) {
    const reason = request.reject?.reason ?? "operator rollback";
    await fleet.backend.decide(request.model, version, {
      verdict: "reject",
      reason,
      by: request.by,
      override: true,
    });
  }
  const intent = await fleet.backend.putIntent({
    model: request.model,
    kind: request.kind as FleetIntent["kind"],
    args: primitives(args),
    by: request.by,
  });
  // A pin is a state too: a replica whose daemon is down now applies it when it comes back (fleet-session.ts).
  if (intent.kind === "pin" || intent.kind === "unpin")
    await fleet.backend.setPin({ ...intent, kind: intent.kind });
  return { ...intent, args: intent.args, by: request.by as Intent["by"] };
}

/**
 * A fleet-wide promote is the fleet's decision too (by the operator), so every replica moves to the same version
 * and the fleet's `stable` follows: the named version, else the fleet's open rollout.
 */
async function promoteDecision(fleet: CliFleet, request: FleetIntentRequest): Promise<string> {
  const { model, by } = request;
  const rollouts = await fleet.backend.rollouts(model);
  const named = typeof request.args.version === "string" ? request.args.version : undefined;
  const version = named ?? rollouts.find((r) => r.decision === undefined)?.version;
  if (version === undefined)
    throw new RefusedError(`promote ${model} refused: no fleet rollout is open; nothing was recorded`, {
      hint: `name the version: tfs-rollout promote ${model} VERSION`,
    });
  const decided = rollouts.find((r) => r.version === version)?.decision;
  if (decided?.verdict === "reject")
    throw new RefusedError(`promote ${model} ${version} refused: the fleet rejected it (${decided.reason})`, {
      hint: "the fleet's verdicts are final: publish the fixed model under a new version number",
    });
  await fleet.backend.decide(model, version, { verdict: "promote", reason: "operator promote", by });
  return version;
}

function primitives(args: { [key: string]: JsonValue }): FleetIntent["args"] {
  const out: FleetIntent["args"] = {};
  for (const [key, value] of Object.entries(args))
    if (typeof value === "string" || typeof value === "number" || typeof value === "boolean")
      out[key] = value;
  return out;
}
