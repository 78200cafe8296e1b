// Loading one version directory the way TF Serving's SavedModel loader fails or succeeds (facts §4, §6, §7).
import { existsSync } from "node:fs";
import { join } from "node:path";
import { RolloutError } from "../errors.js";
import { readSavedModel } from "../savedmodel/reader.js";
import { readWarmupFile, WARMUP_FILE } from "../warmup/reader.js";
import { DEFAULT_BEHAVIOUR, readBehaviour } from "./behaviour.js";
import { DEFAULT_SIGNATURE, runPredict, signatureFor, type PredictTarget } from "./predict.js";
import { readMetaGraphDetails } from "./saved-model-graph.js";
import { ServingError } from "./serving-api.js";

export interface LoadedVersion extends PredictTarget {
  model: string;
  version: string;
  hasVariables: boolean;
  variablesRestored: boolean;
}

export interface LoadOptions {
  tags: readonly string[];
  enableWarmup: boolean;
  /** Emulator-only --load_delay_ms, added to every load attempt. */
  loadDelayMs: number;
  /** Resolves when a fault no longer holds this version in LOADING. */
  waitUntilReleased?: (model: string, version: string) => Promise<void>;
  sleep?: (ms: number) => Promise<void>;
  log: { info(message: string): void };
}

const realSleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function loadError(error: unknown, dir: string): ServingError {
  if (error instanceof ServingError) return error;
  const message = error instanceof Error ? error.message : String(error);
  if (message.startsWith("Could not find SavedModel"))
    return new ServingError(
      "NOT_FOUND",
      `Could not find SavedModel .pb or .pbtxt at supplied export directory path: ${dir}. ` +
        "Check that the directory exists and that you have the right permissions for accessing it.",
    );
  if (message.startsWith("Could not find meta graph def")) return new ServingError("NOT_FOUND", message);
  return new ServingError(error instanceof RolloutError ? "DATA_LOSS" : "INTERNAL", message);
}

/**
 * One load attempt: SavedModel (file, tag set, signatures, variables), the emulator behaviour file (load delay,
 * injected load error), fault holds, then warmup replay. Throws ServingError with TF's code and wording.
 */
export async function loadVersion(
  model: string,
  version: string,
  dir: string,
  options: LoadOptions,
): Promise<LoadedVersion> {
  const sleep = options.sleep ?? realSleep;
  let loaded: LoadedVersion;
  try {
    const info = readSavedModel(dir, { tags: options.tags });
    const details = readMetaGraphDetails(dir, info);
    const variablesRestored = existsSync(join(dir, "variables", "variables.index"));
    if (!variablesRestored)
      options.log.info(
        "The specified SavedModel has no variables; no checkpoints were restored. File does not exist: " +
          join(dir, "variables", "variables.index"),
      );
    loaded = {
      model,
      version,
      versionDir: dir,
      signatureDefs: details.signatureDefs,
      behaviour: DEFAULT_BEHAVIOUR,
      hasVariables: details.hasVariables,
      variablesRestored,
      uninitialized: details.hasVariables && !variablesRestored,
    };
  } catch (error) {
    throw loadError(error, dir);
  }
  try {
    loaded.behaviour = readBehaviour(dir);
  } catch (error) {
    throw new ServingError("INVALID_ARGUMENT", (error as Error).message);
  }
  const delay = options.loadDelayMs + loaded.behaviour.loadDelayMs;
  if (delay > 0) await sleep(delay);
  if (loaded.behaviour.loadError)
    throw new ServingError(loaded.behaviour.loadError.code, loaded.behaviour.loadError.message);
  await options.waitUntilReleased?.(model, version);
  if (options.enableWarmup) await warmUp(loaded, options);
  return loaded;
}

async function warmUp(loaded: LoadedVersion, options: LoadOptions): Promise<void> {
  const path = join(loaded.versionDir, WARMUP_FILE);
  if (!existsSync(path)) {
    options.log.info(`No warmup data file found at ${path}`);
    return;
  }
  let summary: ReturnType<typeof readWarmupFile>;
  try {
    summary = readWarmupFile(path);
  } catch (error) {
    const message = (error as Error).message;
    throw new ServingError(message.startsWith("Failed to parse") ? "INVALID_ARGUMENT" : "DATA_LOSS", message);
  }
  const unsupported = summary.problems.find((p) => p.startsWith("Unsupported log_type"));
  if (unsupported) throw new ServingError("UNIMPLEMENTED", unsupported.replace(/ \(\d+ record\(s\)\)$/, ""));
  // The record's model_spec name and version are ignored; its signature name is used (facts §6).
  for (const request of summary.predictRequests) {
    const spec = (request.model_spec ?? {}) as { signature_name?: string };
    const [, signature] = signatureFor(loaded, spec.signature_name || DEFAULT_SIGNATURE);
    await runPredict(loaded, request, signature);
  }
  const tooMany = summary.problems.find((p) => p.startsWith("Number of warmup records"));
  if (tooMany) throw new ServingError("INVALID_ARGUMENT", tooMany);
}
