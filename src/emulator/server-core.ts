// TF Serving's ServerCore as the emulator models it: one config (from the file or the reload RPC, last writer
// wins), the version-label map, the file-system source polling every base_path, and the request-time lookups.
import type { ModelConfigObject, ModelServerConfigObject } from "../modelconfig/validate.js";
import {
  buildLabelMap,
  checkNoPlatformChanges,
  checkTransition,
  models,
  platformOf,
  validateModelConfigList,
  type LabelMap,
} from "./config-rules.js";
import type { ModelManager, StateEvent } from "./model-manager.js";
import { runPredict, signatureFor } from "./predict.js";
import { ReloadLock } from "./reload-lock.js";
import {
  ServingError,
  type ModelSpecPlain,
  type ModelVersionStatusPlain,
  type PredictRequestPlain,
  type PredictResponsePlain,
  type ServingApi,
  type SignatureDefPlain,
} from "./serving-api.js";
import type { LoadedVersion } from "./version-loader.js";
import { pollAll } from "./version-source.js";

export interface CoreLog {
  info(message: string): void;
  warn(message: string): void;
}

export interface ServerCoreOptions {
  manager: ModelManager;
  allowVersionLabelsForUnavailableModels: boolean;
  /** --file_system_poll_wait_seconds: > 0 periodic, 0 once, < 0 never. */
  fileSystemPollWaitSeconds: number;
  log: CoreLog;
}

/** ServableId.DebugString + status, as TF lists the models a reload waited for in vain. */
function failureList(failures: StateEvent[]): string {
  return `{${failures
    .map(
      (f) =>
        `{name: ${f.model} version: ${f.version}} due to error: ${f.error?.code}: ${f.error?.message}}, `,
    )
    .join("")}}`;
}

export class ServerCore implements ServingApi {
  private config: ModelServerConfigObject | undefined;
  private labels: LabelMap | undefined;
  /** The file-system source's own config: the models it polls. */
  private sourceModels: ModelConfigObject[] = [];
  private readonly lock = new ReloadLock();
  private pollTimer: NodeJS.Timeout | undefined;
  private polling: Promise<void> | undefined;
  private stopped = false;

  constructor(private readonly options: ServerCoreOptions) {}

  /** The config ServerCore currently holds (also after a label rejection, like TF's config_). */
  currentConfig(): ModelServerConfigObject | undefined {
    return this.config;
  }

  /**
   * ServerCore::ReloadConfig under the reload lock. `startup` words a failed wait as ServerCore::Create does;
   * `beforeApply` runs first while holding the lock (injected reload faults). Throws ServingError on failure.
   */
  reloadConfig(
    next: ModelServerConfigObject,
    options: { startup?: boolean; beforeApply?: () => Promise<void> } = {},
  ): Promise<void> {
    return this.lock.run(async () => {
      await options.beforeApply?.();
      await this.reloadLocked(next, options.startup ?? false);
    });
  }

  private async reloadLocked(next: ModelServerConfigObject, startup: boolean): Promise<void> {
    const previous = this.config;
    checkTransition(previous, next);
    if (next.model_config_list === undefined && next.custom_model_config === undefined) {
      this.options.log.info("Taking no action for empty config.");
      return;
    }
    validateModelConfigList(next);
    checkNoPlatformChanges(previous, next);
    this.config = next;
    this.labels = buildLabelMap(
      next,
      this.labels,
      (model, version) => this.options.manager.stateOf(model, version) === "AVAILABLE",
      this.options.allowVersionLabelsForUnavailableModels,
    );
    for (const model of models(next)) platformOf(model);
    const known = new Set(models(previous).map((m) => m.name ?? ""));
    const fresh = models(next)
      .map((m) => m.name ?? "")
      .filter((name) => !known.has(name));
    const settled = this.waitForModels(fresh);
    this.updateSource(models(next));
    if (previous === undefined) this.startFileSystemPolling();
    const failures = await settled;
    if (failures.length > 0) {
      const noun = startup ? "servable(s)" : "model(s)";
      throw new ServingError(
        "UNKNOWN",
        `${failures.length} ${noun} did not become available: ${failureList(failures)}`,
      );
    }
  }

  /** Resolves once each model has one version AVAILABLE or END (from now on); returns those that failed. */
  private waitForModels(names: string[]): Promise<StateEvent[]> {
    const waiting = new Set(names);
    const failures: StateEvent[] = [];
    if (waiting.size === 0) return Promise.resolve(failures);
    return new Promise((resolve) => {
      const off = this.options.manager.onState((event) => {
        if (!waiting.has(event.model) || (event.state !== "AVAILABLE" && event.state !== "END")) return;
        waiting.delete(event.model);
        if (event.state === "END" && event.error) failures.push(event);
        if (waiting.size === 0) {
          off();
          resolve(failures);
        }
      });
    });
  }

  /** FileSystemStoragePathSource::UpdateConfig: removed models are unaspired at once; others wait for a poll. */
  private updateSource(next: ModelConfigObject[]): void {
    const kept = new Set(next.map((m) => m.name ?? ""));
    for (const old of this.sourceModels)
      if (!kept.has(old.name ?? "")) this.options.manager.setAspiredVersions(old.name ?? "", new Map());
    this.sourceModels = next;
  }

  private startFileSystemPolling(): void {
    const seconds = this.options.fileSystemPollWaitSeconds;
    if (seconds < 0 || this.stopped) return;
    const cycle = (): void => {
      this.polling = this.pollFileSystem().finally(() => {
        this.polling = undefined;
        if (seconds > 0 && !this.stopped) this.pollTimer = setTimeout(cycle, seconds * 1000);
      });
    };
    cycle();
  }

  /** One poll cycle: one missing base path fails the whole cycle, so no model gets an update (facts §4). */
  async pollFileSystem(): Promise<void> {
    const polled = this.sourceModels;
    try {
      const desired = await pollAll(polled, this.options.log);
      if (polled !== this.sourceModels) return; // the config changed mid-poll; the next cycle sees the new one
      for (const [model, versions] of desired) this.options.manager.setAspiredVersions(model, versions);
    } catch (error) {
      const status = error instanceof ServingError ? `${error.code}: ${error.message}` : String(error);
      this.options.log.warn(`FileSystemStoragePathSource encountered a filesystem access error: ${status}`);
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.pollTimer);
    await this.polling;
  }

  // ---- request-time lookups (ServingApi) ----

  modelStatus(name: string, version?: string): ModelVersionStatusPlain[] {
    const all = this.options.manager.status(name);
    if (!all || all.length === 0)
      throw new ServingError("NOT_FOUND", `Could not find any versions of model ${name}`);
    if (version === undefined) return all;
    const one = all.filter((s) => s.version === version);
    if (one.length === 0)
      throw new ServingError("NOT_FOUND", `Could not find version ${version} of model ${name}`);
    return one;
  }

  /** ServerCore::GetServableHandle: a version, a label, or the latest AVAILABLE version. */
  servable(spec: ModelSpecPlain | undefined): LoadedVersion {
    if (!spec) throw new ServingError("INVALID_ARGUMENT", "Missing ModelSpec");
    const name = spec.name ?? "";
    if (name === "") throw new ServingError("INVALID_ARGUMENT", "ModelSpec has no name specified.");
    let version: string | undefined;
    if (spec.version !== undefined) version = BigInt(spec.version.value ?? "0").toString();
    else if (spec.version_label !== undefined && spec.version_label !== "") {
      const label = spec.version_label;
      if (this.labels === undefined)
        throw new ServingError("UNAVAILABLE", `Model labels does not init yet.${label}`);
      version = this.labels.get(name)?.get(label);
      if (version === undefined)
        throw new ServingError("INVALID_ARGUMENT", `Unrecognized servable version label: ${label}`);
    }
    const loaded = this.options.manager.servable(name, version);
    if (loaded) return loaded;
    throw new ServingError(
      "NOT_FOUND",
      `Servable not found for request: ${version === undefined ? `Latest(${name})` : `Specific(${name}, ${version})`}`,
    );
  }

  modelMetadata(spec: ModelSpecPlain): {
    model_spec: ModelSpecPlain;
    signature_def: Record<string, SignatureDefPlain>;
  } {
    const loaded = this.servable(spec);
    return {
      model_spec: { name: loaded.model, version: { value: loaded.version } },
      signature_def: loaded.signatureDefs,
    };
  }

  async predict(request: PredictRequestPlain): Promise<PredictResponsePlain> {
    const loaded = this.servable(request.model_spec);
    const [signatureName, signature] = signatureFor(loaded, request.model_spec.signature_name);
    const outputs = await runPredict(loaded, request, signature);
    return {
      model_spec: { name: loaded.model, version: { value: loaded.version }, signature_name: signatureName },
      outputs,
    };
  }
}
