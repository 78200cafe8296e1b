/**
 * Wires the rollout engine from a loaded DaemonConfig: the state backend (journal, verdicts, intents, locks), the
 * TF Serving clients, one admission scanner per model (each model may have its own admission rules), the
 * reconciler with its per-model pass, and, in daemon mode, the version watcher (chokidar + cron rescan) whose
 * signals only enqueue models. `tfs-rollout daemon` (commands/daemon.ts) drives it.
 */
import { AdmissionScanner } from "../admission/scanner.js";
import { admissionRules } from "../admission/quiet-window.js";
import { VersionWatcher } from "../admission/watcher.js";
import { DEFAULT_PLAN_OPTIONS, type PlanOptions } from "../controller/types.js";
import { configForModel } from "../daemon-config/model-view.js";
import type { DaemonConfig, ModelConfigView } from "../daemon-config/types.js";
import { loadModelServerConfig } from "../modelconfig/load.js";
import { openLocalState, type LocalState } from "../state/local-store.js";
import { readTlsFiles, TfServingGrpcClient } from "../tfserving/grpc-client.js";
import { RestClient } from "../tfserving/rest-client.js";
import type { EngineLogger, StepEvent } from "./logger.js";
import { modelPass, type PassDeps } from "./model-pass.js";
import { findModel, modelNames } from "./observe.js";
import { Reconciler } from "./reconciler.js";
import { ReloadCoalescer } from "./reload-coalescer.js";

export interface EngineOptions {
  now?: () => number;
  /** GetModelStatus polling while awaiting AVAILABLE (ms, default 50). */
  pollMs?: number;
  /** Shown to whoever waits for a lock this process holds (default "tfs-rollout daemon"). */
  command?: string;
}

export class Engine {
  private watcher: VersionWatcher | undefined;
  private readonly abort = new AbortController();
  private readonly scanners = new Map<string, AdmissionScanner>();
  private readonly stepListeners = new Set<(event: StepEvent) => void>();
  readonly reconciler: Reconciler;

  private constructor(
    private config: DaemonConfig,
    readonly models: string[],
    readonly state: LocalState,
    readonly grpc: TfServingGrpcClient,
    private readonly log: EngineLogger,
    options: EngineOptions,
  ) {
    const now = options.now ?? Date.now;
    const rest = config.tf_serving.rest_url
      ? new RestClient({ baseUrl: config.tf_serving.rest_url, timeoutMs: config.gate.request_deadline })
      : undefined;
    const deps: Omit<PassDeps, "scanner"> = {
      modelConfigPath: config.model_config_file,
      grpc,
      ...(rest ? { rest } : {}),
      locks: state.locks,
      coalescer: new ReloadCoalescer(config.model_config_file, grpc, state.locks),
      state,
      stableLabel: DEFAULT_PLAN_OPTIONS.stableLabel,
      now,
      pollMs: options.pollMs ?? 50,
      signal: this.abort.signal,
      log,
      settings: (model) => this.settings(model),
      planOptions: (model) => this.planOptions(model),
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
      pass: (model) => modelPass({ ...deps, scanner: this.scanner(model) }, model),
      log,
      maxParallel: config.rollout.max_parallel_models,
      now,
    });
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
    const tf = config.tf_serving;
    const grpc = new TfServingGrpcClient({
      address: tf.grpc_address,
      deadlineMs: tf.call_deadline,
      reloadDeadlineMs: tf.reload_deadline,
      maxReceiveMessageLength: tf.max_receive_message_size,
      attempts: tf.retry.attempts,
      backoff: { initialMs: tf.retry.initial_backoff, maxMs: tf.retry.max_backoff },
      overallDeadlineMs: tf.retry.overall_deadline,
      ...(tf.tls
        ? {
            tls: readTlsFiles({
              ca: tf.tls.ca_file,
              cert: tf.tls.cert_file,
              key: tf.tls.key_file,
              serverNameOverride: tf.tls.server_name_override,
            }),
          }
        : {}),
    });
    return new Engine(config, models, state, grpc, log, options);
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
    const targets = this.models.flatMap((model) => {
      const basePath = findModel(loaded.message, model)?.base_path;
      return basePath ? [{ model, basePath }] : [];
    });
    this.watcher = await VersionWatcher.start(targets, {
      enqueue: (model) => this.reconciler.enqueue(model),
      usePolling: this.config.watch.use_polling,
      pollIntervalMs: this.config.watch.poll_interval,
      rescanCron: this.config.watch.rescan_cron,
    });
    for (const model of this.models) this.reconciler.enqueue(model);
  }

  /** SIGHUP: the reloaded config applies from the next step of each model; every model is reconciled again. */
  applyConfig(config: DaemonConfig): void {
    this.config = config;
    this.scanners.clear(); // new admission rules apply to directories still pending
    for (const model of this.models) this.reconciler.enqueue(model);
  }

  /** Finishes the running steps (a probe's wait is interrupted: re-planned on restart), then releases everything. */
  async stop(): Promise<void> {
    this.abort.abort();
    await this.reconciler.stop();
    await this.watcher?.close();
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

  private planOptions(model: string): PlanOptions {
    const s = this.settings(model);
    return {
      ...DEFAULT_PLAN_OPTIONS,
      loadTimeoutMs: s.rollout.load_deadline,
      rollbackAction: s.rollback.action,
    };
  }
}
