/**
 * Wires the rollout engine from a loaded DaemonConfig: the state backend (journal, verdicts, intents, locks), the
 * TF Serving clients, one admission scanner per model (each model may have its own admission rules), the
 * reconciler with its per-model pass, and, in daemon mode, the watchers whose signals only enqueue models: the
 * version watcher (fs.watch on each base path, a cheap cron rescan, a slow full resync), the CLI intents folders of
 * the state directory, and models.config itself (a model added, removed or moved by TF Serving's operator
 * re-targets the version watcher; without `models` every model in models.config is managed). SIGHUP
 * (`applyConfig`) re-targets too, restarts the watchers when `watch.*` changed and applies
 * `rollout.max_parallel_models`. `tfs-rollout daemon` drives it.
 */
import { setMaxListeners } from "node:events";
import { mkdir } from "node:fs/promises";
import { AdmissionScanner } from "../admission/scanner.js";
import { admissionRules } from "../admission/quiet-window.js";
import { VersionWatcher } from "../admission/watcher.js";
import { DEFAULT_PLAN_OPTIONS, type PlanOptions } from "../controller/types.js";
import { configForModel } from "../daemon-config/model-view.js";
import type { DaemonConfig, ModelConfigView } from "../daemon-config/types.js";
import { errorText } from "../gate/summary.js";
import { loadModelServerConfig } from "../modelconfig/load.js";
import type { ModelServerConfigObject } from "../modelconfig/validate.js";
import { escapeModelName, unescapeModelName } from "../state/paths.js";
import { openLocalState, type LocalState } from "../state/local-store.js";
import type { TfServingGrpcClient } from "../tfserving/grpc-client.js";
import { tfServingClient } from "./tfserving-client.js";
import { RestClient } from "../tfserving/rest-client.js";
import { BakeMonitor } from "./bake.js";
import { bakeProbe } from "./bake-probe.js";
import { watchFile, watchIntents, type Closable } from "./file-watchers.js";
import type { EngineLogger, StepEvent } from "./logger.js";
import { modelPass, type PassDeps } from "./model-pass.js";
import { findModel, modelNames } from "./observe.js";
import type { Actor } from "../state/store.js";
import { STATE_DIR_MODE } from "../state/paths.js";
import { planOptionsFor } from "./plan-options.js";
import { steadyClock } from "./steady-clock.js";
import { Reconciler } from "./reconciler.js";
import { RetentionScheduler } from "./retention-schedule.js";
import { ReloadCoalescer } from "./reload-coalescer.js";
import type { FleetBackend } from "../fleet/backend.js";
import { FleetSession, fleetSettings, openConfiguredFleet } from "./fleet-session.js";

export interface EngineOptions {
  /** The planning clock (tests); default: a steady clock (steady-clock.ts) anchored on `wall`. */
  now?: () => number;
  /** The wall clock, for promotion windows, freezes and the retention schedule (default `now`, else Date.now). */
  wall?: () => number;
  /** GetModelStatus polling while awaiting AVAILABLE (ms, default 50). */
  pollMs?: number;
  /** Shown to whoever waits for a lock this process holds (default "tfs-rollout daemon"). */
  command?: string;
  /** Who the journal says applied each step (default "daemon"; operator commands pass `cli:<user>`). */
  actor?: Actor;
  /** Fleet mode: this backend (tests) instead of the configured one; false: none (operator commands). */
  fleet?: FleetBackend | false;
}

export interface WatchState {
  /** Models whose base path is watched. */
  models: string[];
  usePolling: boolean;
  pollIntervalMs: number;
  rescanCron: string;
}

export class Engine {
  private watcher: VersionWatcher | undefined;
  /** The intents and models.config watchers (daemon mode). */
  private fileWatchers: Closable[] = [];
  private managed: string[];
  /** Each model's models.config entry as last seen (JSON), to enqueue only the models whose entry changed. */
  private entries = new Map<string, string>();
  /** Target refreshes run one after the other. */
  private refreshing: Promise<void> = Promise.resolve();
  private stopped = false;
  private watchedWith: WatchState | undefined;
  private readonly abort = new AbortController();
  private readonly retention = new RetentionScheduler((model) => this.reconciler.enqueue(model));
  /** The bake period's probes of `stable` after each promotion (daemon mode only: started by start()). */
  readonly bake: BakeMonitor;
  private readonly scanners = new Map<string, AdmissionScanner>();
  private readonly stepListeners = new Set<(event: StepEvent) => void>();
  readonly reconciler: Reconciler;
  /** Fleet mode (coordination.backend etcd, or an injected backend): this replica's session with the fleet. */
  readonly fleet: FleetSession | undefined;

  private constructor(
    private config: DaemonConfig,
    models: string[],
    readonly state: LocalState,
    readonly grpc: TfServingGrpcClient,
    private readonly log: EngineLogger,
    options: EngineOptions,
  ) {
    this.managed = [...models];
    // Every model's probe waits on this one signal: a hundred models in flight are normal, not a leak.
    setMaxListeners(0, this.abort.signal);
    // Durations run on the steady clock, calendars on the wall clock (a wall-clock step moves no deadline).
    const wall = options.wall ?? options.now ?? Date.now;
    const now = options.now ?? steadyClock(wall);
    this.fleet = options.fleet
      ? new FleetSession(options.fleet, () => fleetSettings(this.config), state.intents, log, wall)
      : undefined;
    const rest = config.tf_serving.rest_url
      ? new RestClient({ baseUrl: config.tf_serving.rest_url, timeoutMs: config.gate.request_deadline })
      : undefined;
    const deps: Omit<PassDeps, "scanner"> = {
      modelConfigPath: config.model_config_file,
      grpc,
      ...(rest ? { rest } : {}),
      locks: state.locks,
      verdicts: state.verdicts,
      ...(this.fleet ? { fleet: this.fleet } : {}),
      coalescer: new ReloadCoalescer(config.model_config_file, grpc, state.locks),
      state,
      stableLabel: DEFAULT_PLAN_OPTIONS.stableLabel,
      now,
      pollMs: options.pollMs ?? 50,
      ...(options.actor === undefined ? {} : { actor: options.actor }),
      signal: this.abort.signal,
      log,
      settings: (model) => this.settings(model),
      planOptions: (model) => this.planOptions(model, now(), wall()),
      onStep: (event) => {
        for (const listener of this.stepListeners) {
          try {
            listener(event);
          } catch (error) {
            log.warn({ model: event.step.model, reason: String(error) }, "a step listener failed");
          }
        }
      },
      onScan: (model, scan) => {
        if (this.watcher === undefined) return;
        void this.watcher.setPending(model, scan.pendingPaths);
        if (scan.recheckInMs !== undefined) this.watcher.recheckAfter(model, scan.recheckInMs);
      },
    };
    this.reconciler = new Reconciler({
      pass: (model) =>
        this.managed.includes(model)
          ? modelPass({ ...deps, scanner: this.scanner(model) }, model)
          : Promise.resolve({ kind: "converged", reason: `${model} is no longer managed` }),
      log,
      maxParallel: config.rollout.max_parallel_models,
      now,
    });
    this.bake = new BakeMonitor({
      ...deps,
      probe: bakeProbe({ grpc, ...(rest ? { rest } : {}) }),
      enqueue: (model) => this.reconciler.enqueue(model),
      emit: (event) => deps.onStep?.(event),
    });
    this.onStep((event) => this.bake.noteStep(event));
  }

  static async open(config: DaemonConfig, log: EngineLogger, options: EngineOptions = {}): Promise<Engine> {
    const loaded = await loadModelServerConfig(config.model_config_file);
    const models = config.models ?? modelNames(loaded.message);
    for (const model of models) {
      if (findModel(loaded.message, model) === undefined)
        log.warn(
          { model },
          `model ${model} is not in ${config.model_config_file}; it waits until it is added`,
        );
    }
    const state = await openLocalState(config.state_dir, {
      command: options.command ?? "tfs-rollout daemon",
      log,
    });
    const grpc = tfServingClient(config.tf_serving);
    const fleet =
      options.fleet === false ? undefined : (options.fleet ?? (await openConfiguredFleet(config)));
    return new Engine(config, models, state, grpc, log, { ...options, fleet: fleet ?? false });
  }

  /** The models managed now (followed from models.config when the daemon config does not list them). */
  get models(): string[] {
    return this.managed;
  }

  /** The daemon config in force (replaced on SIGHUP). */
  get daemonConfig(): DaemonConfig {
    return this.config;
  }

  /** Subscribes to every applied step (after it is journaled and logged); returns the unsubscribe function. */
  onStep(listener: (event: StepEvent) => void): () => void {
    this.stepListeners.add(listener);
    return () => this.stepListeners.delete(listener);
  }

  /** `--once`: one reconcile pass over every model. True when every model converged. */
  async runOnce(): Promise<boolean> {
    const ok = await this.reconciler.runOnce(this.models);
    for (const model of this.models)
      this.log.info(
        { model, outcome: this.reconciler.outcomes.get(model) },
        `${model}: ${this.reconciler.outcomes.get(model)}`,
      );
    return ok;
  }

  /** Daemon mode: watch every base path, rescan on the cron schedule, reconcile every model now. */
  async start(): Promise<void> {
    const loaded = await loadModelServerConfig(this.config.model_config_file);
    this.entries = modelEntries(loaded.message);
    await this.startWatchers(loaded.message);
    this.retention.update(this.models, (model) => this.settings(model));
    await this.bake.start(this.models);
    await this.fleet?.start((model) => {
      if (this.managed.includes(model)) this.reconciler.enqueue(model);
    });
    for (const model of this.models) this.reconciler.enqueue(model);
  }

  private async startWatchers(loaded: ModelServerConfigObject): Promise<void> {
    const watch = this.config.watch;
    const targets = this.targets(loaded);
    this.watchedWith = {
      models: targets.map((t) => t.model),
      usePolling: watch.use_polling,
      pollIntervalMs: watch.poll_interval,
      rescanCron: watch.rescan_cron,
    };
    this.watcher = await VersionWatcher.start(targets, {
      enqueue: (model) => this.reconciler.enqueue(model),
      usePolling: watch.use_polling,
      pollIntervalMs: watch.poll_interval,
      rescanCron: watch.rescan_cron,
      resyncCron: watch.resync_cron,
    });
    const options = {
      usePolling: watch.use_polling,
      pollIntervalMs: watch.poll_interval,
      onError: (error: unknown) => this.log.warn({ reason: errorText(error) }, "watcher error"),
    };
    // Each managed model's intents folder exists before it is watched: chokidar discovering a folder and the
    // intent renamed into it at the same moment can miss the intent (then only the cron rescan would see it).
    await Promise.all(
      this.managed.map((model) =>
        mkdir(this.state.paths.intentsDir(model), { recursive: true, mode: STATE_DIR_MODE }).catch(
          () => undefined,
        ),
      ),
    );
    this.fileWatchers = [
      await watchIntents(
        this.state.paths.modelsDir,
        (component) => this.modelOfStateDir(component),
        (model) => this.reconciler.enqueue(model),
        options,
      ),
      await watchFile(this.config.model_config_file, () => void this.refresh(), options),
    ];
  }

  private async stopWatchers(): Promise<void> {
    const closing = [this.watcher?.close(), ...this.fileWatchers.map((w) => w.close())];
    this.watcher = undefined;
    this.fileWatchers = [];
    await Promise.all(closing);
  }

  private targets(loaded: ModelServerConfigObject): { model: string; basePath: string }[] {
    return this.managed.flatMap((model) => {
      const basePath = findModel(loaded, model)?.base_path;
      return basePath ? [{ model, basePath }] : [];
    });
  }

  private modelOfStateDir(component: string): string | undefined {
    const model = this.managed.find((m) => escapeModelName(m) === component) ?? unescapeModelName(component);
    return model !== undefined && this.managed.includes(model) ? model : undefined;
  }

  /** models.config changed: follow added, removed and moved models; enqueue the models whose entry changed. */
  private refresh(restartWatchers = false): Promise<void> {
    this.refreshing = this.refreshing
      .then(() => this.refreshNow(restartWatchers))
      .catch((error: unknown) =>
        this.log.warn(
          { reason: errorText(error) },
          `cannot follow ${this.config.model_config_file}: ${errorText(error)}; watching as before`,
        ),
      );
    return this.refreshing;
  }

  private async refreshNow(restartWatchers: boolean): Promise<void> {
    if (this.stopped || this.watcher === undefined) return;
    const loaded = (await loadModelServerConfig(this.config.model_config_file)).message;
    const entries = modelEntries(loaded);
    const managed = this.config.models ?? modelNames(loaded);
    const added = managed.filter((m) => !this.managed.includes(m));
    const removed = this.managed.filter((m) => !managed.includes(m));
    const before = this.entries;
    const changed = managed.filter((m) => entries.get(m) !== before.get(m));
    this.managed = managed;
    this.entries = entries;
    for (const model of removed) {
      this.reconciler.forget(model);
      this.fleet?.forget(model);
      this.log.info({ model }, `model ${model} is no longer in models.config: no longer managed`);
    }
    for (const model of added)
      this.log.info({ model }, `model ${model} is new in models.config: managing it`);
    for (const model of changed) {
      const [was, now] = [basePathOf(before.get(model)), basePathOf(entries.get(model))];
      if (was !== undefined && now !== undefined && was !== now)
        this.log.info({ model, base_path: now }, `model ${model} moved to base path ${now}: watching it`);
    }
    if (this.stopped) return;
    if (restartWatchers) {
      await this.stopWatchers();
      await this.startWatchers(loaded);
    } else {
      const targets = this.targets(loaded);
      await this.watcher?.setTargets(targets);
      if (this.watchedWith) this.watchedWith.models = targets.map((t) => t.model);
    }
    if (added.length > 0 || removed.length > 0) {
      this.retention.update(this.models, (model) => this.settings(model));
      for (const model of [...added, ...removed])
        this.bake
          .refresh(model)
          .catch((error: unknown) =>
            this.log.warn({ model, reason: errorText(error) }, `bake period of ${model} not followed`),
          );
    }
    for (const model of new Set([...added, ...changed])) this.reconciler.enqueue(model);
  }

  /** SIGHUP: the reloaded config applies from the next step of each model; every model is reconciled again. */
  applyConfig(config: DaemonConfig): void {
    const before = this.config;
    this.config = config;
    this.scanners.clear(); // new admission rules apply to directories still pending
    if (!this.stopped && this.watcher !== undefined)
      this.retention.update(this.models, (model) => this.settings(model));
    this.bake.reschedule(this.models);
    this.reconciler.setMaxParallel(config.rollout.max_parallel_models);
    const rewatch = JSON.stringify(before.watch) !== JSON.stringify(config.watch);
    if (this.watcher !== undefined) void this.refresh(rewatch);
    for (const model of this.models) this.reconciler.enqueue(model);
  }

  /** How the running watchers were set up (status output, tests); undefined before start(). */
  watching(): WatchState | undefined {
    return this.watchedWith === undefined ? undefined : structuredClone(this.watchedWith);
  }

  /** Resolves once the models.config / SIGHUP re-targeting requested so far is done (tests). */
  async settled(): Promise<void> {
    await this.refreshing;
  }

  /** Finishes the running steps (a probe's wait is interrupted: re-planned on restart), then releases everything. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.retention.stop();
    this.bake.stop();
    this.abort.abort();
    await this.reconciler.stop();
    await this.fleet?.stop();
    await this.refreshing;
    await this.stopWatchers();
    this.grpc.close();
  }

  private scanner(model: string): AdmissionScanner {
    let scanner = this.scanners.get(model);
    if (scanner === undefined) {
      const a = this.settings(model).admission;
      scanner = new AdmissionScanner({
        rules: admissionRules({
          quietWindowMs: a.quiet_window,
          ...(a.marker_file === undefined ? {} : { markerFile: a.marker_file }),
          deadlineMs: a.incomplete_deadline,
        }),
      });
      this.scanners.set(model, scanner);
    }
    return scanner;
  }

  private settings(model: string): ModelConfigView {
    return configForModel(this.config, model);
  }

  private planOptions(model: string, now: number, wall: number): PlanOptions {
    return planOptionsFor(this.settings(model), now, wall);
  }
}

function modelEntries(config: ModelServerConfigObject): Map<string, string> {
  return new Map((config.model_config_list?.config ?? []).map((m) => [m.name ?? "", JSON.stringify(m)]));
}

function basePathOf(entry: string | undefined): string | undefined {
  return entry === undefined ? undefined : (JSON.parse(entry) as { base_path?: string }).base_path;
}
