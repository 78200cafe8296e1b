// ServerCore::ReloadConfig's checks (facts §1, §3), in TF's order, with TF's codes and wording.
import { isAbsolute } from "node:path";
import { isDeepStrictEqual } from "node:util";
import type { ModelConfigObject, ModelServerConfigObject } from "../modelconfig/validate.js";
import { ServingError } from "./serving-api.js";

export type LabelMap = Map<string, Map<string, string>>;

export const models = (config: ModelServerConfigObject | undefined): ModelConfigObject[] =>
  config?.model_config_list?.config ?? [];

/** Step 1: the only legal transitions are first config, same config, or list → list. */
export function checkTransition(
  current: ModelServerConfigObject | undefined,
  next: ModelServerConfigObject,
): void {
  if (current === undefined || isDeepStrictEqual(current, next)) return;
  if (current.model_config_list !== undefined && next.model_config_list !== undefined) return;
  throw new ServingError(
    "FAILED_PRECONDITION",
    "Cannot transition to requested config. It is only legal to transition from one ModelConfigList to another.",
  );
}

const URI = /^[A-Za-z][A-Za-z0-9+.-]*:\/\//;

/** Step 3: ValidateModelConfigList. */
export function validateModelConfigList(config: ModelServerConfigObject): void {
  const seen = new Set<string>();
  for (const model of models(config)) {
    const name = model.name ?? "";
    if (seen.has(name))
      throw new ServingError(
        "INVALID_ARGUMENT",
        `Illegal to list model ${name} multiple times in config list`,
      );
    seen.add(name);
    const basePath = model.base_path ?? "";
    if (!isAbsolute(basePath) && !URI.test(basePath))
      throw new ServingError(
        "INVALID_ARGUMENT",
        `Expected model ${name} to have an absolute path or URI; got base_path()=${basePath}`,
      );
  }
}

/** The platform a model config asks for, or TF's error when it names none or an unsupported one. */
export function platformOf(model: ModelConfigObject): string {
  if (model.model_platform) {
    if (model.model_platform !== "tensorflow")
      throw new ServingError(
        "INVALID_ARGUMENT",
        `Model ${model.name ?? ""} requests unsupported platform ${model.model_platform}`,
      );
    return model.model_platform;
  }
  if (model.model_type === "TENSORFLOW") return "tensorflow";
  if (model.model_type === "OTHER")
    throw new ServingError(
      "INVALID_ARGUMENT",
      `Model ${model.name ?? ""} requests unsupported platform other`,
    );
  throw new ServingError(
    "INVALID_ARGUMENT",
    "Illegal setting neither ModelServerConfig::model_type (deprecated) nor ModelServerConfig::model_platform, " +
      `model name is ${model.name ?? ""}`,
  );
}

function rawPlatform(model: ModelConfigObject): string {
  return (
    model.model_platform || (model.model_type === "TENSORFLOW" ? "tensorflow" : (model.model_type ?? ""))
  );
}

/** Step 4: ValidateNoModelsChangePlatforms. */
export function checkNoPlatformChanges(
  current: ModelServerConfigObject | undefined,
  next: ModelServerConfigObject,
): void {
  const before = new Map(models(current).map((m) => [m.name ?? "", rawPlatform(m)]));
  for (const model of models(next)) {
    const was = before.get(model.name ?? "");
    const now = rawPlatform(model);
    if (was !== undefined && was !== now)
      throw new ServingError(
        "INVALID_ARGUMENT",
        `Illegal to change a model's platform. For model ${model.name ?? ""} platform was ${was} and new ` +
          `platform requested is ${now}`,
      );
  }
}

/**
 * Step 6: UpdateModelVersionLabelMap. Without the allow flag a label must name an AVAILABLE version; with it, a new
 * label or an unchanged one may name anything, but moving a label still needs an AVAILABLE target.
 */
export function buildLabelMap(
  config: ModelServerConfigObject,
  previous: LabelMap | undefined,
  isAvailable: (model: string, version: string) => boolean,
  allowUnavailable: boolean,
): LabelMap {
  const result: LabelMap = new Map();
  for (const model of models(config)) {
    const name = model.name ?? "";
    const labels = new Map<string, string>();
    for (const [label, raw] of Object.entries(model.version_labels ?? {})) {
      const version = BigInt(raw).toString();
      const before = previous?.get(name)?.get(label);
      const free = allowUnavailable && (before === undefined || before === version);
      if (!free && !isAvailable(name, version))
        throw new ServingError(
          "FAILED_PRECONDITION",
          `Request to assign label to version ${version} of model ${name}, which is not currently available for inference`,
        );
      labels.set(label, version);
    }
    if (labels.size > 0) result.set(name, labels);
  }
  return result;
}
