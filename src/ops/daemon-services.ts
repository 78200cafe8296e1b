/**
 * The daemon's operations side, started by `tfs-rollout daemon` around the Engine: Prometheus metrics, webhooks,
 * TF Serving reachability for /readyz, and the HTTP server (/livez, /readyz, /metrics). Nothing here can hold
 * up a rollout: step events are handled after the step, webhooks are queued (bounded) and sent in the background,
 * and every failure is logged and swallowed.
 *
 * Use: `const ops = await DaemonServices.start({ config, env, log, heartbeat })` (starts the HTTP server when
 * http.listen is set, so /livez answers while the engine opens); then `ops.attach(engine)` once the engine is
 * open, `ops.markStarted()` once Engine.start() resolved (watchers ready), `ops.applyConfig(next)` on SIGHUP and
 * `await ops.close()` on the way out.
 */
import type { DaemonConfig } from "../daemon-config/types.js";
import { loadControllerState } from "../engine/controller-state.js";
import type { Engine } from "../engine/engine.js";
import type { EngineLogger } from "../engine/logger.js";
import { errorText } from "../gate/summary.js";
import type { Heartbeat } from "../systemd/heartbeat.js";
import type { RolloutEvent } from "./events.js";
import { livenessFromHeartbeat, readinessFrom } from "./health.js";
import { startOpsServer, type OpsServer } from "./http-server.js";
import { parseListenAddress } from "./listen-address.js";
import { RolloutMetrics } from "./metrics.js";
import { RolloutTracker } from "./rollout-tracker.js";
import { startTfServingProber, TfServingHealth } from "./tfserving-health.js";
import { webhookTargetsFromConfig } from "./webhook-targets.js";
import { WebhookNotifier, type DeliveryResult } from "./webhooks.js";

export interface DaemonServicesOptions {
  config: DaemonConfig;
  env: NodeJS.ProcessEnv;
  log: EngineLogger;
  heartbeat: Heartbeat;
  /** Start the HTTP server (default: when config.http.listen is set; `--once` passes false). */
  server?: boolean;
  /** How long TF Serving may be idle before the prober calls it (default 5 s). */
  probeIntervalMs?: number;
  /** How long close() waits for queued webhooks (default 3 s). */
  webhookCloseMs?: number;
  /** Told about every rollout event after it was queued for the webhooks (systemd STATUS follows promotions). */
  onEvent?: (event: RolloutEvent) => void;
}

/** Journal entries searched for a version's admit step when this process did not see it. */
const ADMIT_SEARCH_LIMIT = 500;

export class DaemonServices {
  readonly metrics = new RolloutMetrics();
  readonly health: TfServingHealth;
  readonly tracker: RolloutTracker;
  private notifier: WebhookNotifier;
  private server: OpsServer | undefined;
  private started = false;
  /** The latest promotion this process saw (systemd STATUS). */
  lastPromotion: { model: string; version: string; at: number } | undefined;
  private engine: Engine | undefined;
  private readonly cleanups: (() => void)[] = [];
  private readonly log: EngineLogger;

  private constructor(private readonly options: DaemonServicesOptions) {
    this.log = options.log;
    this.health = new TfServingHealth({ address: options.config.tf_serving.grpc_address });
    this.notifier = this.newNotifier(options.config);
    this.tracker = new RolloutTracker({
      metrics: this.metrics,
      emit: (event) => this.emit(event),
      intentActor: async (model, id) =>
        (await this.engine?.state.intents.pending(model))?.find((intent) => intent.id === id)?.by,
      detectedAt: async (model, version) => {
        const history =
          (await this.engine?.state.journal.history(model, { limit: ADMIT_SEARCH_LIMIT })) ?? [];
        const admit = history.find((entry) => {
          const step = entry.step as { kind?: unknown; candidate?: unknown } | null;
          return entry.phase === "done" && step?.kind === "admit" && step.candidate === version;
        });
        return admit === undefined ? undefined : Date.parse(admit.at);
      },
      onError: (error) =>
        this.log.warn({ reason: errorText(error) }, "metrics/notifications: a step event failed"),
    });
  }

  /** Creates the services; resolves once the HTTP server listens (throws a RolloutError when it cannot). */
  static async start(options: DaemonServicesOptions): Promise<DaemonServices> {
    const services = new DaemonServices(options);
    const listen = options.config.http.listen;
    if ((options.server ?? true) && listen !== null) await services.listen(listen);
    return services;
  }

  /** The bound address of the HTTP server ("127.0.0.1:43210"), or undefined when none runs. */
  get address(): string | undefined {
    return this.server === undefined ? undefined : this.server.url.replace(/^http:\/\//, "");
  }

  /** Subscribes to the engine's steps and TF Serving calls; starts the idle-time reachability prober. */
  attach(engine: Engine): void {
    this.engine = engine;
    this.cleanups.push(engine.onStep((event) => void this.tracker.handle(event)));
    this.cleanups.push(
      engine.grpc.observeCalls((method, durationMs, code) => {
        this.health.observe(method, durationMs, code);
        this.metrics.tfServingCall(method, durationMs / 1000, code === "OK" ? undefined : code);
      }),
    );
    this.cleanups.push(
      this.metrics.beforeExpose(async () => {
        for (const model of engine.models) {
          const unfinished = await engine.state.journal.unfinished(model).catch(() => []);
          const step = unfinished.at(-1)?.step as { kind?: unknown } | undefined;
          this.metrics.setStepInFlight(model, typeof step?.kind === "string" ? step.kind : undefined);
        }
      }),
    );
    const probeModel = engine.models[0] ?? "tfs-rollout-readiness-probe";
    this.cleanups.push(
      startTfServingProber({
        health: this.health,
        probe: () => engine.grpc.getModelStatus(probeModel),
        intervalMs: this.options.probeIntervalMs ?? 5000,
      }),
    );
    void this.seedStableVersions(engine);
  }

  /** Engine.start() resolved: the watchers run and TF Serving is being contacted. */
  markStarted(): void {
    this.started = true;
  }

  /** SIGHUP with a new config: webhooks are replaced; http.listen only changes on restart. */
  applyConfig(previous: DaemonConfig, next: DaemonConfig): void {
    if (previous.http.listen !== next.http.listen)
      this.log.warn(
        { http_listen: next.http.listen, in_use: this.address ?? null },
        "http.listen changed: it applies when the daemon restarts",
      );
    if (JSON.stringify(previous.notifications) === JSON.stringify(next.notifications)) return;
    let replacement: WebhookNotifier;
    try {
      replacement = this.newNotifier(next);
    } catch (error) {
      this.log.error({ reason: errorText(error) }, "SIGHUP: webhooks not changed");
      return;
    }
    const old = this.notifier;
    this.notifier = replacement;
    void old.close(this.options.webhookCloseMs ?? 3000);
    this.log.info({ webhooks: next.notifications.webhooks.map((hook) => hook.url) }, "webhooks reloaded");
  }

  /** Stops the prober and subscriptions, sends what the webhook queues still hold (bounded), closes the server. */
  async close(): Promise<void> {
    for (const cleanup of this.cleanups.splice(0)) cleanup();
    await this.tracker.idle();
    const stats = await this.notifier.close(this.options.webhookCloseMs ?? 3000);
    if (stats.dropped > 0 || stats.failed > 0)
      this.log.warn({ ...stats }, "webhooks: some events were not delivered");
    await this.server?.close();
  }

  private async listen(listen: string): Promise<void> {
    const heartbeat = this.options.heartbeat;
    this.server = await startOpsServer({
      listen: parseListenAddress(listen, "http.listen"),
      livez: livenessFromHeartbeat(heartbeat),
      readyz: readinessFrom({
        daemon: () => (this.started ? undefined : "starting: watchers not running yet"),
        tfserving: () => this.health.notReadyReason(),
      }),
      metrics: this.metrics,
    });
    this.log.info({ address: this.address }, "ops server listening");
  }

  private emit(event: RolloutEvent): void {
    if (event.type === "promoted")
      this.lastPromotion = { model: event.model, version: event.version, at: Date.parse(event.at) };
    this.log.info(
      { event: event.type, model: event.model, version: event.version, reason: event.reason },
      `event ${event.type}`,
    );
    this.notifier.notify(event);
    try {
      this.options.onEvent?.(event);
    } catch (error) {
      this.log.warn({ reason: errorText(error) }, "an event listener failed");
    }
  }

  private newNotifier(config: DaemonConfig): WebhookNotifier {
    return new WebhookNotifier({
      targets: webhookTargetsFromConfig(config.notifications.webhooks, this.options.env),
      onResult: (result) => this.logDelivery(result),
    });
  }

  private logDelivery(result: DeliveryResult): void {
    const fields = {
      url: result.url,
      event: result.event.type,
      model: result.event.model,
      version: result.event.version,
      attempts: result.attempts,
    };
    if (result.outcome === "delivered") this.log.debug(fields, "webhook delivered");
    else this.log.warn({ ...fields, reason: result.error }, `webhook ${result.outcome}`);
  }

  private async seedStableVersions(engine: Engine): Promise<void> {
    for (const model of engine.models) {
      try {
        const { record } = await loadControllerState(engine.state.journal, model);
        const stable = record.verified?.version ?? record.lastWritten?.labels.stable;
        if (stable !== undefined) this.metrics.setStableVersion(model, stable);
      } catch (error) {
        this.log.debug({ model, reason: errorText(error) }, "stable_version: no journaled record");
      }
    }
  }
}
