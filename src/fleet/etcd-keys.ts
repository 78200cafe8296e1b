/**
 * The fleet's etcd key layout (src/fleet/backend.ts), every key under the fleet's prefix. Election keys follow the
 * etcd3 client's `election(name)` layout (`election/<name>/<lease id>`), so its `leader()` reads ours.
 */
export const DEFAULT_PREFIX = "/tfs-rollout/";

/** Record kinds whose keys name a model as their second segment (watch events map back to it). */
const MODEL_KINDS = new Set(["election", "rollouts", "reports", "slots", "intents", "pins"]);

export class FleetKeys {
  constructor(readonly prefix: string) {}

  member(replica: string): string {
    return `${this.prefix}members/${replica}`;
  }
  members(): string {
    return `${this.prefix}members/`;
  }
  election(model: string): string {
    return `${this.prefix}election/${model}/`;
  }
  rollouts(model: string): string {
    return `${this.prefix}rollouts/${model}/`;
  }
  rollout(model: string, version: string): string {
    return `${this.rollouts(model)}${version}`;
  }
  reports(model: string): string {
    return `${this.prefix}reports/${model}/`;
  }
  report(model: string, version: string, replica: string): string {
    return `${this.reports(model)}${version}/${replica}`;
  }
  slots(model: string): string {
    return `${this.prefix}slots/${model}/`;
  }
  slot(model: string, replica: string): string {
    return `${this.slots(model)}${replica}`;
  }
  intents(model: string): string {
    return `${this.prefix}intents/${model}/`;
  }
  intent(model: string, id: string): string {
    return `${this.intents(model)}${id}`;
  }
  pin(model: string): string {
    return `${this.prefix}pins/${model}`;
  }

  /** The model a changed key belongs to, if any (members/ belong to none). */
  modelOf(key: string): string | undefined {
    if (!key.startsWith(this.prefix)) return undefined;
    const [kind, model] = key.slice(this.prefix.length).split("/");
    return kind !== undefined && MODEL_KINDS.has(kind) && model ? model : undefined;
  }
}

/** A record key segment (replica id, model name) may not hold "/" or be empty: it would shift the layout. */
export function keySegment(what: string, value: string): string {
  if (value === "" || value.includes("/") || value.includes("\0"))
    throw new Error(`fleet ${what} "${value}" cannot be an etcd key segment (empty, "/" or NUL)`);
  return value;
}
