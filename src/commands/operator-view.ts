/**
 * A model as the controller sees it, observed by an operator command before it records anything: the same
 * models.config entry, GetModelStatus, journaled record and version scan as a reconcile pass, digested into the
 * controller's planning context so a command can preview and validate an intent with the controller's own rules
 * (startRollback, targetRefusal). Nothing here writes or locks.
 *
 * The scan reads the versions the engine would read (settled ones stay `unchecked`) and judges each one's
 * completeness at once (quiet window 0; the marker file when configured): this process has not watched the
 * directories, and a version copied long ago must not look "pending".
 */
import { planOptionsFor as enginePlanOptions } from "../engine/plan-options.js";
import { AdmissionScanner } from "../admission/scanner.js";
import { admissionRules } from "../admission/quiet-window.js";
import { BasePathError } from "../admission/version-dirs.js";
import type { Ctx } from "../controller/plan-context.js";
import { DEFAULT_PLAN_OPTIONS, type PlanOptions } from "../controller/types.js";
import { observedPolicy, statusMap } from "../controller/versions.js";
import { configForModel } from "../daemon-config/model-view.js";
import type { DaemonConfig } from "../daemon-config/types.js";
import { loadControllerState } from "../engine/controller-state.js";
import {
  desiredState,
  diskVersions,
  findModel,
  modelNames,
  observedModelConfig,
  observeStatus,
  settledVersions,
} from "../engine/observe.js";
import { UnreachableError, UsageError } from "../errors.js";
import { loadModelServerConfig } from "../modelconfig/load.js";
import type { Operator } from "./operator-context.js";

/** The model's `stable` (or whatever label the controller moves) as models.config holds it now. */
export async function stableInConfig(config: DaemonConfig, model: string): Promise<string | undefined> {
  const loaded = await loadModelServerConfig(config.model_config_file);
  return findModel(loaded.message, model)?.version_labels?.[DEFAULT_PLAN_OPTIONS.stableLabel];
}

/** The planning options the engine uses for this model now. */
export function planOptionsFor(config: DaemonConfig, model: string): PlanOptions {
  return enginePlanOptions(configForModel(config, model), Date.now());
}

export function unreachableError(config: DaemonConfig, reason: string): UnreachableError {
  const address = config.tf_serving.grpc_address;
  return new UnreachableError(`TF Serving is unreachable at ${address}: ${reason}`, {
    where: address,
    hint: "start TF Serving, or point --grpc (tf_serving.grpc_address in the daemon config) at its gRPC port",
  });
}

/** Observes `model` now; a model missing from models.config is a usage error, an unreachable TF Serving exit 3. */
export async function viewModel(operator: Operator, model: string): Promise<Ctx> {
  const { config, engine } = operator;
  const file = config.model_config_file;
  const loaded = await loadModelServerConfig(file);
  const observedConfig = observedModelConfig(findModel(loaded.message, model));
  if (observedConfig === undefined) {
    const known = modelNames(loaded.message);
    throw new UsageError(`model ${model} is not in models.config`, {
      where: file,
      hint: known.length > 0 ? `models there: ${known.join(", ")}` : "the file lists no model",
    });
  }
  if (!engine.models.includes(model)) {
    throw new UsageError(`model ${model} is not managed by tfs-rollout`, {
      where: config.config_file ?? "models",
      hint: `the daemon config's models key (or --models) lists: ${engine.models.join(", ")}`,
    });
  }
  const status = await observeStatus(engine.grpc, model);
  if (status.kind === "unreachable") throw unreachableError(config, status.reason);
  const { record, inFlight } = await loadControllerState(engine.state.journal, model);
  const admission = configForModel(config, model).admission;
  const scanner = new AdmissionScanner({
    rules: admissionRules({
      quietWindowMs: 0,
      ...(admission.marker_file === undefined ? {} : { markerFile: admission.marker_file }),
      deadlineMs: admission.incomplete_deadline,
    }),
  });
  const settled = settledVersions(record);
  const scan = await scanner
    .scan(model, observedConfig.basePath, Date.now(), { settled })
    .catch((error: unknown) => {
      if (error instanceof BasePathError) return undefined;
      throw error;
    });
  const desired = desiredState(model, record, diskVersions(scan), [], inFlight);
  const opts = planOptionsFor(config, model);
  return {
    d: desired,
    o: { config: observedConfig, status, now: Date.now() },
    opts,
    model,
    config: observedConfig,
    statuses: statusMap(status) ?? new Map(),
    current: observedPolicy(observedConfig),
    stable: observedConfig.labels[opts.stableLabel],
    disk: new Map(desired.disk.map((v) => [v.version, v])),
  };
}
