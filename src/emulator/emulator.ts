// Wires the emulator together: model manager + ServerCore + gRPC (+ REST and control front ends), the startup
// sequence of tensorflow_model_server (ports open only after the initial models loaded) and the config-file poll.
import type * as grpc from "@grpc/grpc-js";
import { CallLog } from "./call-log.js";
import { readModelConfigFile } from "./config-file.js";
import { Faults } from "./faults.js";
import type { EmulatorFlags } from "./flags.js";
import { startGrpcServer } from "./grpc-server.js";
import { ModelManager } from "./model-manager.js";
import { startControlServer } from "./control-server.js";
import { startRestServer } from "./rest-server.js";
import { ServerCore } from "./server-core.js";
import { ServingError } from "./serving-api.js";
import { loadVersion } from "./version-loader.js";

export interface EmulatorLog {
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

export interface Ports {
  grpc_port: number;
  rest_api_port: number | null;
  control_port: number | null;
}

export interface RunningEmulator {
  ports: Ports;
  core: ServerCore;
  manager: ModelManager;
  faults: Faults;
  callLog: CallLog;
  close(): Promise<void>;
}

/** What makes startup fail; main prints `Failed to start server. Error: <status>` and exits non-zero. */
export class StartupError extends Error {
  constructor(readonly status: string) {
    super(`Failed to start server. Error: ${status}`);
    this.name = "StartupError";
  }
}

const statusText = (error: unknown): string =>
  error instanceof ServingError
    ? `${error.code}: ${error.message}`
    : String((error as Error)?.message ?? error);

export async function startEmulator(flags: EmulatorFlags, log: EmulatorLog): Promise<RunningEmulator> {
  const faults = new Faults();
  const callLog = new CallLog();
  const manager = new ModelManager({
    load: (model, version, dir) =>
      loadVersion(model, version, dir, {
        tags: flags.savedModelTags,
        enableWarmup: flags.enableModelWarmup,
        loadDelayMs: flags.loadDelayMs,
        waitUntilReleased: (m, v) => faults.waitUntilReleased(m, v),
        log,
      }),
    maxNumLoadRetries: flags.maxNumLoadRetries,
    loadRetryIntervalMs: flags.loadRetryIntervalMicros / 1000,
    numLoadThreads: flags.numLoadThreads,
    log,
  });
  const core = new ServerCore({
    manager,
    allowVersionLabelsForUnavailableModels: flags.allowVersionLabelsForUnavailableModels,
    fileSystemPollWaitSeconds: flags.fileSystemPollWaitSeconds,
    log,
  });
  const closers: Array<() => Promise<void>> = [];
  let configPoll: NodeJS.Timeout | undefined;
  let stopped = false;
  const close = async (): Promise<void> => {
    stopped = true;
    clearTimeout(configPoll);
    faults.releaseAll(); // a held load would otherwise keep the manager loop from stopping
    for (const closer of closers.reverse()) await closer();
    await core.stop();
    await manager.stop();
  };
  try {
    let config;
    try {
      config = await readModelConfigFile(flags.modelConfigFile, log);
    } catch (error) {
      throw new StartupError(statusText(error));
    }
    if (config.custom_model_config !== undefined)
      throw new StartupError("ModelServer does not yet support custom model config.");
    manager.start();
    try {
      await core.reloadConfig(config, { startup: true });
    } catch (error) {
      throw new StartupError(statusText(error));
    }
    const grpcServer: { server: grpc.Server; port: number } = await startGrpcServer(
      { core, faults, callLog },
      flags.port,
      flags.listenHost,
    );
    closers.push(async () => void grpcServer.server.forceShutdown());
    let restPort: number | null = null;
    if (flags.restApiPort !== undefined) {
      const rest = await startRestServer({
        api: core,
        faults,
        callLog,
        port: flags.restApiPort,
        host: flags.listenHost,
      });
      closers.push(() => rest.close());
      restPort = rest.port;
    }
    let controlPort: number | null = null;
    if (flags.controlPort !== undefined) {
      const control = await startControlServer({ faults, callLog, port: flags.controlPort });
      closers.push(() => control.close());
      controlPort = control.port;
    }
    if (flags.modelConfigFilePollWaitSeconds > 0) {
      const poll = async (): Promise<void> => {
        let next;
        try {
          next = await readModelConfigFile(flags.modelConfigFile, log);
        } catch (error) {
          log.error(`Failed to read ModelServerConfig file: ${statusText(error)}`);
        }
        // ReloadConfig runs unconditionally, overwriting any RPC-set config (facts §1).
        if (next)
          await core
            .reloadConfig(next)
            .catch((error: unknown) =>
              log.error(`PollFilesystemAndReloadConfig failed to ReloadConfig: ${statusText(error)}`),
            );
        if (!stopped) configPoll = setTimeout(poll, flags.modelConfigFilePollWaitSeconds * 1000);
      };
      configPoll = setTimeout(poll, flags.modelConfigFilePollWaitSeconds * 1000);
    }
    return {
      ports: { grpc_port: grpcServer.port, rest_api_port: restPort, control_port: controlPort },
      core,
      manager,
      faults,
      callLog,
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}
