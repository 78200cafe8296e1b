/**
 * The local IntentQueue: one file per intent, `<state>/models/<model>/intents/<at>-<id>.json`, written atomically
 * by the CLI; consuming one writes `intents/consumed/<same name>` with its outcome, then removes the pending file
 * (a crash in between leaves both, and the consumed copy wins). The newest `keepConsumed` consumed intents are
 * kept for `tfs-rollout history`/`status`. A daemon learns of new intents by watching or rescanning `intents/`.
 */
import { randomBytes } from "node:crypto";
import { mkdir, readdir, readFile, unlink } from "node:fs/promises";
import { join } from "node:path";
import { RolloutError } from "../errors.js";
import { writeFileAtomic } from "../modelconfig/atomic-write.js";
import { stateLockName } from "./journal.js";
import type { FileLocks } from "./locks.js";
import { STATE_DIR_MODE, stateDirError, type StatePaths } from "./paths.js";
import { asJson, assertActor, assertNonEmpty } from "./records.js";
import type { Actor, ConsumedIntent, Intent, IntentInput, IntentQueue, JsonValue } from "./store.js";

export interface LocalIntentQueueOptions {
  now?: () => Date;
  /** Consumed intents kept per model; 200. */
  keepConsumed?: number;
}

const ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

export class LocalIntentQueue implements IntentQueue {
  readonly #paths: StatePaths;
  readonly #locks: FileLocks;
  readonly #now: () => Date;
  readonly #keepConsumed: number;

  constructor(paths: StatePaths, locks: FileLocks, options: LocalIntentQueueOptions = {}) {
    this.#paths = paths;
    this.#locks = locks;
    this.#now = options.now ?? (() => new Date());
    this.#keepConsumed = options.keepConsumed ?? 200;
  }

  async put(input: IntentInput): Promise<Intent> {
    const what = "intent";
    assertNonEmpty(input.model, "model", what);
    assertNonEmpty(input.kind, "kind", what);
    assertActor(input.by, what);
    const id = input.id ?? randomBytes(8).toString("hex");
    if (!ID_PATTERN.test(id))
      throw new RolloutError(`${what}: id must match ${ID_PATTERN.source}, not "${id}"`);
    const intent = asJson(
      {
        id,
        model: input.model,
        kind: input.kind,
        args: input.args,
        by: input.by,
        at: input.at ?? this.#now().toISOString(),
      },
      `intent ${id}`,
    ) as unknown as Intent;
    const dir = this.#paths.intentsDir(intent.model);
    await mkdir(dir, { recursive: true, mode: STATE_DIR_MODE }).catch((error: NodeJS.ErrnoException) => {
      throw stateDirError(dir, error);
    });
    if ((await this.#findPending(intent.model, id)) !== undefined)
      throw new RolloutError(`intent ${id} of model ${intent.model} already exists`);
    await writeFileAtomic(join(dir, fileName(intent)), `${JSON.stringify(intent, null, 2)}\n`);
    return intent;
  }

  async pending(model?: string): Promise<Intent[]> {
    const models = model === undefined ? await this.#modelDirs() : [this.#paths.modelDir(model)];
    const all: Intent[] = [];
    for (const modelDir of models) {
      const dir = join(modelDir, "intents");
      const consumed = new Set(await listJson(join(dir, "consumed")));
      for (const name of await listJson(dir)) {
        if (consumed.has(name)) continue;
        const intent = await readIntent(join(dir, name));
        if (intent !== undefined) all.push(intent);
      }
    }
    return all.sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  async markConsumed(model: string, id: string, by: Actor, outcome: JsonValue): Promise<ConsumedIntent> {
    assertActor(by, "consumed intent");
    const dir = this.#paths.intentsDir(model);
    const consumedDir = this.#paths.consumedIntentsDir(model);
    return this.#locks.withLock(stateLockName(model), async () => {
      const name = await this.#findPending(model, id);
      if (name === undefined) {
        const done = (await listJson(consumedDir)).find((file) => file.endsWith(`-${id}.json`));
        if (done !== undefined) {
          const record = await readIntent(join(consumedDir, done));
          if (record) return record as ConsumedIntent;
        }
        throw new RolloutError(`no intent ${id} for model ${model}`, {
          where: dir,
          hint: "list the pending intents first; an intent is consumed once",
        });
      }
      const intent = await readIntent(join(dir, name));
      if (intent === undefined)
        throw new RolloutError(`intent ${id} of model ${model} is unreadable`, { where: join(dir, name) });
      const consumed = asJson(
        { ...intent, consumedAt: this.#now().toISOString(), consumedBy: by, outcome },
        `outcome of intent ${id}`,
      ) as unknown as ConsumedIntent;
      await mkdir(consumedDir, { recursive: true, mode: STATE_DIR_MODE });
      await writeFileAtomic(join(consumedDir, name), `${JSON.stringify(consumed, null, 2)}\n`);
      await unlink(join(dir, name)).catch(ignoreMissing);
      await this.#pruneConsumed(consumedDir);
      return consumed;
    });
  }

  async consumed(model: string, id: string): Promise<ConsumedIntent | undefined> {
    const consumedDir = this.#paths.consumedIntentsDir(model);
    const name = (await listJson(consumedDir)).find((file) => file.endsWith(`-${id}.json`));
    return name === undefined ? undefined : ((await readIntent(join(consumedDir, name))) as ConsumedIntent);
  }

  async #findPending(model: string, id: string): Promise<string | undefined> {
    return (await listJson(this.#paths.intentsDir(model))).find((name) => name.endsWith(`-${id}.json`));
  }

  async #pruneConsumed(dir: string): Promise<void> {
    const names = (await listJson(dir)).sort();
    for (const name of names.slice(0, Math.max(0, names.length - this.#keepConsumed)))
      await unlink(join(dir, name)).catch(ignoreMissing);
  }

  async #modelDirs(): Promise<string[]> {
    const entries = await readdir(this.#paths.modelsDir, { withFileTypes: true }).catch(emptyWhenMissing);
    return entries
      .filter((entry) => entry.isDirectory())
      .map((entry) => join(this.#paths.modelsDir, entry.name));
  }
}

/** Sortable by time: the ISO time without punctuation, then the id. */
function fileName(intent: Intent): string {
  return `${intent.at.replace(/[^0-9TZ]/g, "")}-${intent.id}.json`;
}

async function listJson(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(emptyWhenMissing);
  return entries
    .filter((entry) => entry.isFile() && entry.name.endsWith(".json") && !entry.name.startsWith("."))
    .map((entry) => entry.name);
}

async function readIntent(path: string): Promise<Intent | undefined> {
  try {
    return JSON.parse(await readFile(path, "utf8")) as Intent;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined; // consumed meanwhile
    throw new RolloutError(`cannot read intent: ${(error as Error).message}`, {
      where: path,
      hint: "intent files are written atomically; remove a damaged one and issue the command again",
      cause: error,
    });
  }
}

function emptyWhenMissing(error: NodeJS.ErrnoException): never[] {
  if (error.code === "ENOENT") return [];
  throw error;
}

function ignoreMissing(error: NodeJS.ErrnoException): void {
  if (error.code !== "ENOENT") throw error;
}
