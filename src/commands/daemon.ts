/**
 * `tfs-rollout daemon`: the rollout engine (issue 5). Logs pino JSON lines to stdout (nothing else goes there;
 * `--pretty` for human-readable lines). `--once` runs one reconcile pass and exits 0 when every model converged,
 * 1 otherwise. SIGHUP reloads the daemon config (a bad edit is logged and the old config kept); SIGTERM and SIGINT
 * let the current step finish and exit 0.
 */
import type { Command } from "commander";
import {
  addDaemonConfigOptions,
  daemonConfigFlags,
  loadDaemonConfig,
  nodeConfigFileReader,
  reloadDaemonConfig,
} from "../daemon-config/index.js";
import { Engine } from "../engine/engine.js";
import { createEngineLogger } from "../engine/logger.js";
import type { CommandContext } from "../program.js";

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
    const engine = await Engine.open(config, log);
    log.info(
      {
        models: engine.models,
        grpc: config.tf_serving.grpc_address,
        state_dir: config.state_dir,
        once: config.once,
      },
      "tfs-rollout daemon starting",
    );
    if (config.once) {
      const converged = await engine.runOnce();
      await engine.stop();
      ctx.result.code = converged ? 0 : 1;
      return;
    }
    let failed = false;
    const hup = () => {
      void reloadDaemonConfig(config, flags, ctx.io.env, reader).then((result) => {
        config = result.config;
        if (!result.ok) {
          log.error({ reason: result.error.message, hint: result.error.hint }, "SIGHUP: config not reloaded");
          return;
        }
        engine.applyConfig(result.config);
        log.info({ changed: result.changed }, "SIGHUP: daemon config reloaded");
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
          log.info({ signal: why }, `${why}: finishing the current step, then exiting`);
          void engine.stop().then(resolve, resolve);
        };
        onTerm = () => stop("SIGTERM");
        onInt = () => stop("SIGINT");
        process.on("SIGTERM", onTerm);
        process.on("SIGINT", onInt);
        process.on("SIGHUP", hup);
        engine.start().catch((error: unknown) => {
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
    }
    ctx.result.code = failed ? 1 : 0;
    log.info({}, "tfs-rollout daemon stopped");
  });
}
