/**
 * `tfs-rollout daemon`: the rollout engine (issue 5). Logs pino JSON lines to stdout (nothing else goes there;
 * `--pretty` for human-readable lines). `--once` runs one reconcile pass and exits 0 when every model converged,
 * 1 otherwise; it starts no HTTP server and sends no webhooks or systemd notifications. SIGHUP reloads the daemon
 * config (a bad edit is logged and the old config kept); SIGTERM and SIGINT let the current step finish and exit 0.
 *
 * Operations (issue 8): the HTTP server on http.listen (/livez, /readyz, /metrics) and the webhooks live in
 * ops/daemon-services.ts; under systemd (NOTIFY_SOCKET set) the daemon sends READY=1 once the config is loaded, the
 * watchers run and TF Serving was contacted (or is being retried), STATUS= lines, WATCHDOG=1 from the main loop,
 * RELOADING=1 then READY=1 around a SIGHUP reload, and STOPPING=1 on SIGTERM.
 */
import type { Command } from "commander";
import {
  addDaemonConfigOptions,
  daemonConfigFlags,
  loadDaemonConfig,
  nodeConfigFileReader,
  reloadDaemonConfig,
  type DaemonConfig,
} from "../daemon-config/index.js";
import { Engine } from "../engine/engine.js";
import { createEngineLogger, type EngineLogger } from "../engine/logger.js";
import { DaemonServices } from "../ops/daemon-services.js";
import type { CommandContext } from "../program.js";
import { createHeartbeat } from "../systemd/heartbeat.js";
import { SystemdNotifier } from "../systemd/notify.js";
import { startStatusReporter, statusLine } from "../systemd/status-line.js";

/** The main loop's beat (liveness and the systemd watchdog); a stuck event loop stops it. */
export const MAIN_LOOP_TICK_MS = 1000;
/** /livez fails and the watchdog stops petting after this long without a beat. */
export const HEARTBEAT_STALE_MS = 10_000;

export function registerDaemon(program: Command, ctx: CommandContext): void {
  const command = program
    .command("daemon")
    .description("watch base paths and roll new versions out safely: admit, load, gate, promote, roll back");
  addDaemonConfigOptions(command, { once: true });
  command.action(async (opts: Record<string, unknown>) => {
    const flags = daemonConfigFlags(opts);
    const reader = nodeConfigFileReader(ctx.io.cwd);
    let config = await loadDaemonConfig(flags, ctx.io.env, reader);
    const log = createEngineLogger({
      write: (line) => ctx.io.stdout(line),
      level: config.logging.level,
      pretty: config.logging.pretty,
    });
    if (config.once) {
      const engine = await Engine.open(config, log);
      logStarting(log, engine, config);
      const converged = await engine.runOnce();
      await engine.stop();
      ctx.result.code = converged ? 0 : 1;
      return;
    }

    const systemd = new SystemdNotifier({ env: ctx.io.env, log: (message) => log.warn({}, message) });
    const tickMs = Math.min(MAIN_LOOP_TICK_MS, Math.max(10, (systemd.watchdogIntervalMs ?? Infinity) / 2));
    const heartbeat = createHeartbeat(Math.max(HEARTBEAT_STALE_MS, 5 * tickMs));
    const mainLoop = setInterval(() => heartbeat.beat(), tickMs);
    let status: { update(): void; stop(): void } | undefined;
    let ops: DaemonServices | undefined;
    let engine: Engine;
    try {
      ops = await DaemonServices.start({
        config,
        env: ctx.io.env,
        log,
        heartbeat,
        onEvent: () => status?.update(),
      });
      engine = await Engine.open(config, log);
    } catch (error) {
      clearInterval(mainLoop);
      await ops?.close();
      throw error;
    }
    const services = ops;
    services.attach(engine);
    logStarting(log, engine, config);
    const readStatus = () => ({
      models: engine.models,
      waits: engine.reconciler.waits(),
      ...(services.lastPromotion ? { lastPromotion: services.lastPromotion } : {}),
    });

    let failed = false;
    let readySent = false;
    let reloading = Promise.resolve();
    const hup = () => {
      reloading = reloading.then(async () => {
        void systemd.reloading("reloading the daemon config");
        const result = await reloadDaemonConfig(config, flags, ctx.io.env, reader);
        const previous = config;
        config = result.config;
        if (!result.ok)
          log.error({ reason: result.error.message, hint: result.error.hint }, "SIGHUP: config not reloaded");
        else {
          engine.applyConfig(result.config);
          services.applyConfig(previous, result.config);
          log.info({ changed: result.changed }, "SIGHUP: daemon config reloaded");
        }
        // Before the first READY=1 a reload only delays it; READY=1 itself still waits for start-up.
        if (readySent) void systemd.ready(statusLine(readStatus()));
      });
    };
    let onTerm = (): void => undefined;
    let onInt = (): void => undefined;
    try {
      await new Promise<void>((resolve) => {
        let stopping = false;
        const stop = (why: string) => {
          if (stopping) return;
          stopping = true;
          void systemd.stopping(`${why}: finishing the current step`);
          log.info({ signal: why }, `${why}: finishing the current step, then exiting`);
          void engine.stop().then(resolve, resolve);
        };
        onTerm = () => stop("SIGTERM");
        onInt = () => stop("SIGINT");
        process.on("SIGTERM", onTerm);
        process.on("SIGINT", onInt);
        process.on("SIGHUP", hup);
        engine
          .start()
          .then(async () => {
            services.markStarted();
            await services.health.firstAttempt();
            if (stopping) return;
            readySent = true;
            log.info({ models: engine.models.length }, "daemon ready: watching, TF Serving contacted");
            void systemd.ready(statusLine(readStatus()));
            systemd.startWatchdog(() => heartbeat.isAlive());
            status = startStatusReporter({ read: readStatus, send: (line) => void systemd.status(line) });
          })
          .catch((error: unknown) => {
            failed = true;
            log.error(
              { reason: error instanceof Error ? error.message : String(error) },
              "daemon failed to start",
            );
            stop("start failure");
          });
      });
    } finally {
      process.off("SIGTERM", onTerm);
      process.off("SIGINT", onInt);
      process.off("SIGHUP", hup);
      status?.stop();
      systemd.stopWatchdog();
      clearInterval(mainLoop);
      await reloading;
      await services.close();
      await systemd.flush();
    }
    ctx.result.code = failed ? 1 : 0;
    log.info({}, "tfs-rollout daemon stopped");
  });
}

function logStarting(log: EngineLogger, engine: Engine, config: DaemonConfig): void {
  log.info(
    {
      models: engine.models,
      grpc: config.tf_serving.grpc_address,
      state_dir: config.state_dir,
      once: config.once,
    },
    "tfs-rollout daemon starting",
  );
}
