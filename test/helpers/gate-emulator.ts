// One in-process emulator serving model "m" from temp version dirs, for the deeper gate checks' tests.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { startEmulator, type RunningEmulator } from "../../src/emulator/emulator.js";
import { parseFlags } from "../../src/emulator/flags.js";
import { servedSignatures } from "../../src/gate/gate-signature.js";
import type { SmokeGateInput } from "../../src/gate/smoke-gate.js";
import { TfServingGrpcClient } from "../../src/tfserving/grpc-client.js";
import {
  configText,
  modelEntry,
  tempDir,
  waitFor,
  writeVersion,
  type VersionOptions,
} from "./emulator-harness.js";

const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined };

export interface GateEmulator {
  emulator: RunningEmulator;
  grpc: TfServingGrpcClient;
  base: string;
  /** runSmokeGate input for `version` of model "m", gRPC only, signatures as served. */
  input(version: string, extra?: Partial<SmokeGateInput>): SmokeGateInput;
  close(): Promise<void>;
}

/**
 * `prepare(dir)` runs after each version dir is written and before the emulator loads it (e.g. warmup files).
 * `labels` become the model's version_labels (e.g. {stable: "1"}, for probes by label).
 */
export async function startGateEmulator(
  versions: Record<string, VersionOptions>,
  prepare: (version: string, dir: string) => void = () => undefined,
  labels: Record<string, string> = {},
): Promise<GateEmulator> {
  const tmp = tempDir("tfs-gate-deep-");
  const base = join(tmp.dir, "m");
  for (const [version, options] of Object.entries(versions))
    prepare(version, writeVersion(base, version, options));
  const file = join(tmp.dir, "models.config");
  const labelText = Object.entries(labels)
    .map(([key, value]) => ` version_labels { key: "${key}" value: ${value} }`)
    .join("");
  writeFileSync(file, configText(modelEntry("m", base, `model_version_policy { all {} }${labelText}`)));
  let emulator: RunningEmulator | undefined;
  let grpc: TfServingGrpcClient | undefined;
  try {
    emulator = await startEmulator(
      parseFlags([
        `--model_config_file=${file}`,
        "--port=0",
        "--file_system_poll_wait_seconds=0",
        "--max_num_load_retries=0",
        ...(Object.keys(labels).length > 0 ? ["--allow_version_labels_for_unavailable_models=true"] : []),
      ]),
      quiet,
    );
    const client = new TfServingGrpcClient({ address: `127.0.0.1:${emulator.ports.grpc_port}`, attempts: 1 });
    grpc = client;
    await waitFor("every version AVAILABLE", async () => {
      const states = await client.getModelStatus("m");
      return states.length === Object.keys(versions).length && states.every((s) => s.state === "AVAILABLE");
    });
  } catch (error) {
    grpc?.close();
    await emulator?.close();
    tmp.cleanup();
    throw error;
  }
  const [running, client] = [emulator, grpc];
  return {
    emulator: running,
    grpc: client,
    base,
    input: (version, extra = {}) => ({
      model: "m",
      version,
      grpc: client,
      signatureSource: servedSignatures(client, "m"),
      ...extra,
    }),
    async close() {
      client.close();
      await running.close();
      tmp.cleanup();
    },
  };
}
