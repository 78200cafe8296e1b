/**
 * What the commands that only look (`status`, `history`, `plan`, `smoke`) share: the daemon's config loaded from the same
 * flags, the state directory opened READ-ONLY (nothing created, no lock taken, pending intents left pending), a
 * gRPC client for GetModelStatus, and one model's whole picture: its models.config entry, TF Serving's status,
 * the journaled record and step in flight, pending intents, the disk judged by dry admission (dry-admission.ts),
 * and the desired/observed states plan() takes. Safe with the daemon running or stopped.
 */
import { planOptionsFor } from "../engine/plan-options.js";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import type { Command } from "commander";
import type {
  Intent as ControllerIntent,
  DesiredState,
  ObservedState,
  PlanOptions,
} from "../controller/types.js";
import {
  addDaemonConfigOptions,
  configForModel,
  daemonConfigFlags,
  loadDaemonConfig,
  nodeConfigFileReader,
} from "../daemon-config/index.js";
import type { DaemonConfig, ModelConfigView } from "../daemon-config/types.js";
import { loadControllerState, type StoredControllerState } from "../engine/controller-state.js";
import { toControllerIntent } from "../engine/intents.js";
import {
  desiredState,
  findModel,
  modelNames,
  observeStatus,
  observedModelConfig,
  settledVersions,
} from "../engine/observe.js";
import { UsageError } from "../errors.js";
import { loadModelServerConfig, type LoadedModelServerConfig } from "../modelconfig/load.js";
import { LocalIntentQueue } from "../state/intent-queue.js";
import { LocalJournal } from "../state/journal.js";
import { storedModels } from "../state/local-store.js";
import { FileLocks, modelLockName } from "../state/locks.js";
import { liveness } from "../state/process-identity.js";
import { StatePaths } from "../state/paths.js";
import type { ConsumedIntent, Intent as StoredIntent, VerdictRecord } from "../state/store.js";
import { LocalVerdictStore } from "../state/verdict-store.js";
import type { TfServingGrpcClient } from "../tfserving/grpc-client.js";
import { tfServingClient } from "../engine/tfserving-client.js";
import type { CommandContext } from "../program.js";
import { dryAdmission, type DryVersion } from "./dry-admission.js";

/** The daemon's flags plus `--json`. */
export function addLookOptions(command: Command): Command {
  addDaemonConfigOptions(command);
  return command.option("--json", "machine-readable JSON on stdout");
}

/** The state directory, read only: these objects are only ever asked to read. */
export interface ReadOnlyState {
  paths: StatePaths;
  /** Only asked who holds a lock, never to take one. */
  locks: FileLocks;
  journal: LocalJournal;
  verdicts: LocalVerdictStore;
  intents: LocalIntentQueue;
}

export interface Look {
  config: DaemonConfig;
  models: LoadedModelServerConfig;
  state: ReadOnlyState;
  grpc: TfServingGrpcClient;
  /** Set once GetModelStatus failed as unreachable: why. */
  unreachable?: string;
  now(): number;
  close(): void;
}

export async function openLook(ctx: CommandContext, opts: Record<string, unknown>): Promise<Look> {
  const config = await loadDaemonConfig(
    daemonConfigFlags(opts),
    ctx.io.env,
    nodeConfigFileReader(ctx.io.cwd),
  );
  const models = await loadModelServerConfig(config.model_config_file);
  const paths = new StatePaths(config.state_dir);
  const locks = new FileLocks(paths, { command: "tfs-rollout (read only)" });
  const state: ReadOnlyState = {
    paths,
    locks,
    journal: new LocalJournal(paths, locks),
    verdicts: new LocalVerdictStore(paths, locks),
    intents: new LocalIntentQueue(paths, locks),
  };
  const grpc = tfServingClient(config.tf_serving);
  return { config, models, state, grpc, now: Date.now, close: () => grpc.close() };
}

export async function withLook<T>(
  ctx: CommandContext,
  opts: Record<string, unknown>,
  fn: (look: Look) => Promise<T>,
): Promise<T> {
  const look = await openLook(ctx, opts);
  try {
    return await fn(look);
  } finally {
    look.close();
  }
}

/**
 * The models a command covers: the named one (which must be in models.config or have state), else the managed
 * models (`models` in the daemon config, or every model in models.config) plus models that only have state left.
 */
export async function selectModels(
  look: Look,
  model: string | undefined,
  withStored = true,
): Promise<string[]> {
  const inConfig = modelNames(look.models.message);
  const managed = look.config.models ?? inConfig;
  const stored = withStored ? await storedModels(look.state.paths) : [];
  if (model !== undefined) {
    if (inConfig.includes(model) || stored.includes(model) || managed.includes(model)) return [model];
    const known = [...new Set([...managed, ...stored])].sort();
    throw new UsageError(`unknown model ${JSON.stringify(model)}`, {
      where: look.config.model_config_file,
      hint: known.length > 0 ? `known models: ${known.join(", ")}` : "models.config lists no model",
    });
  }
  return [...new Set([...managed, ...stored])].sort();
}

export interface ModelLook extends StoredControllerState {
  model: string;
  settings: ModelConfigView;
  planOptions: PlanOptions;
  observed: ObservedState;
  desired: DesiredState;
  disk: DryVersion[];
  /** Why the base path could not be listed. */
  diskProblem?: string;
  storedIntents: StoredIntent[];
  /** Pending intents the controller cannot read (the daemon refuses them on its next pass). */
  unreadableIntents: { id: string; problem: string }[];
  verdictStore: VerdictRecord[];
  /** The live process holding the model's lock (the daemon or a command applying a step), if any. */
  holder?: { command: string; pid: number; hostname: string; since: string };
}

export async function lookAtModel(look: Look, model: string): Promise<ModelLook> {
  const settings = configForModel(look.config, model);
  const now = look.now();
  const config = observedModelConfig(findModel(look.models.message, model));
  const [status, stored, storedIntents, verdictStore, holder] = await Promise.all([
    observeTfServing(look, model),
    loadControllerState(look.state.journal, model),
    look.state.intents.pending(model),
    look.state.verdicts.list(model),
    liveHolder(look, model),
  ]);
  const intents: ControllerIntent[] = [];
  const unreadableIntents: { id: string; problem: string }[] = [];
  for (const s of storedIntents) {
    const intent = toControllerIntent(s);
    if ("invalid" in intent) unreadableIntents.push({ id: s.id, problem: intent.invalid });
    else intents.push(intent);
  }
  const admission =
    config === undefined
      ? { versions: [] }
      : await dryAdmission(config.basePath, settings.admission, now, settledVersions(stored.record));
  const disk = admission.versions;
  const desired = desiredState(
    model,
    stored.record,
    disk.map((v) => ({ version: v.version, dirName: v.dirName, admission: v.admission })),
    intents,
    stored.inFlight,
  );
  return {
    model,
    settings,
    planOptions: planOptionsFor(settings, now),
    observed: { config, status, now },
    desired,
    disk,
    ...("problem" in admission && admission.problem !== undefined ? { diskProblem: admission.problem } : {}),
    ...stored,
    storedIntents,
    unreadableIntents,
    verdictStore,
    ...(holder === undefined ? {} : { holder }),
  };
}

/** GetModelStatus; once TF Serving proved unreachable, later models are not asked again (each try waits out the
 * retry deadline). */
async function observeTfServing(look: Look, model: string): Promise<ObservedState["status"]> {
  if (look.unreachable !== undefined) return { kind: "unreachable", reason: look.unreachable };
  const status = await observeStatus(look.grpc, model);
  if (status.kind === "unreachable") look.unreachable = status.reason;
  return status;
}

async function liveHolder(look: Look, model: string): Promise<ModelLook["holder"]> {
  const holder = await look.state.locks.holder(modelLockName(model)).catch(() => undefined);
  if (holder === undefined || liveness(holder).alive === false) return undefined;
  return { command: holder.command, pid: holder.pid, hostname: holder.hostname, since: holder.since };
}

/** Consumed intents kept for the audit trail (who asked for what), by id. Read directly: the queue has no lister. */
export async function consumedIntents(look: Look, model: string): Promise<Map<string, ConsumedIntent>> {
  const dir = look.state.paths.consumedIntentsDir(model);
  const names = await readdir(dir).catch(() => [] as string[]);
  const out = new Map<string, ConsumedIntent>();
  for (const name of names.filter((n) => n.endsWith(".json") && !n.startsWith("."))) {
    try {
      const intent = JSON.parse(await readFile(join(dir, name), "utf8")) as ConsumedIntent;
      if (typeof intent.id === "string") out.set(intent.id, intent);
    } catch {
      // A damaged or vanishing file only loses one attribution.
    }
  }
  return out;
}

/** "TF Serving at ADDRESS is unreachable (...)" with how to point the command elsewhere. */
export function unreachableNote(look: Look, reason: string): string {
  return (
    `TF Serving at ${look.config.tf_serving.grpc_address} is unreachable (${reason})\n` +
    `  hint: start TF Serving, or give its gRPC address with --grpc HOST:PORT (or tf_serving.grpc_address in --config)\n`
  );
}

export { planOptionsFor };
