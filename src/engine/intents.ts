/**
 * CLI intents (state/intent-queue.ts: `{ kind, args }` as the operator commands write them) as the controller's
 * typed Intent. An intent the controller cannot read is consumed at once with a "refused" outcome naming the
 * problem, so one bad file never blocks a model.
 */
import type { Intent, QuarantineAction } from "../controller/types.js";
import type { Intent as StoredIntent, IntentQueue } from "../state/store.js";

type Args = Record<string, unknown>;

const str = (a: Args, key: string): string | undefined => (typeof a[key] === "string" ? a[key] : undefined);
const version = (a: Args, key: string): string | undefined => {
  const v = a[key];
  if (typeof v === "number" && Number.isSafeInteger(v)) return String(v);
  return typeof v === "string" && /^-?\d+$/.test(v) ? String(BigInt(v)) : undefined;
};

/** The controller's form of a stored intent, or why it cannot be read. */
export function toControllerIntent(stored: StoredIntent): Intent | { invalid: string } {
  const a: Args =
    stored.args !== null && typeof stored.args === "object" && !Array.isArray(stored.args) ? stored.args : {};
  const base = { id: stored.id, by: stored.by, at: Date.parse(stored.at) };
  switch (stored.kind) {
    case "promote": {
      const v = version(a, "version");
      const skipGates = a.skipGates === true || a.skip_gates === true;
      return { ...base, kind: "promote", ...(v === undefined ? {} : { version: v }), skipGates };
    }
    case "rollback": {
      const to = version(a, "to") ?? version(a, "version");
      const action = str(a, "action");
      if (action !== undefined && action !== "rename" && action !== "delete")
        return { invalid: `rollback action must be rename or delete, not ${JSON.stringify(action)}` };
      return {
        ...base,
        kind: "rollback",
        ...(to === undefined ? {} : { to }),
        ...(action === undefined ? {} : { action: action as QuarantineAction }),
      };
    }
    case "pin": {
      const v = version(a, "version");
      if (v === undefined) return { invalid: "pin needs a version" };
      const reason = str(a, "reason");
      const expiresAt = typeof a.expiresAt === "number" ? a.expiresAt : undefined;
      return {
        ...base,
        kind: "pin",
        version: v,
        ...(reason === undefined ? {} : { reason }),
        ...(expiresAt === undefined ? {} : { expiresAt }),
      };
    }
    case "unpin":
      return { ...base, kind: "unpin" };
    case "retry": {
      const v = version(a, "version");
      if (v === undefined) return { invalid: "retry needs a version" };
      return { ...base, kind: "retry", version: v };
    }
    default:
      return { invalid: `unknown intent kind ${JSON.stringify(stored.kind)}` };
  }
}

/** Pending intents of a model, oldest first; unreadable ones are consumed as refused. */
export async function pendingIntents(queue: IntentQueue, model: string): Promise<Intent[]> {
  const out: Intent[] = [];
  for (const stored of await queue.pending(model)) {
    const intent = toControllerIntent(stored);
    if ("invalid" in intent) {
      await queue.markConsumed(model, stored.id, "daemon", { outcome: "refused", reason: intent.invalid });
    } else out.push(intent);
  }
  return out;
}
