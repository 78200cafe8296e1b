import { statSync } from "node:fs";
import { formatDuration } from "./duration.js";
import { configForModel } from "./model-view.js";
import { didYouMean } from "./suggest.js";
import type { DaemonConfig, GateRequestConfig, ModelConfigView } from "./types.js";

/** A rule broken by a normalised config, at the key path that has to change. */
export interface RuleProblem {
  path: PropertyKey[];
  message: string;
  hint?: string;
}

/**
 * Checks that need more than one key (the schema checks each key alone). Per-model rules run on each model's
 * merged view and point at the override that broke them, or at the global key when no override is involved.
 */
export function checkRules(config: DaemonConfig, options: { modelsFromFile: boolean }): RuleProblem[] {
  const problems: RuleProblem[] = [];
  if (!config.model_config_file)
    problems.push({
      path: ["model_config_file"],
      message: "is not set: the daemon needs TF Serving's models.config",
      hint: "pass --model-config-file PATH or set model_config_file: /models/models.config in the config file",
    });
  const tls = config.tf_serving.tls;
  if (tls && (tls.cert_file === undefined) !== (tls.key_file === undefined))
    problems.push({
      path: ["tf_serving", "tls", tls.cert_file === undefined ? "key_file" : "cert_file"],
      message: "cert_file and key_file go together (a client certificate needs its key)",
      hint: "set both tf_serving.tls.cert_file and tf_serving.tls.key_file, or neither",
    });
  const retry = config.tf_serving.retry;
  if (retry.max_backoff < retry.initial_backoff)
    problems.push({
      path: ["tf_serving", "retry", "max_backoff"],
      message: `(${formatDuration(retry.max_backoff)}) is shorter than initial_backoff (${formatDuration(retry.initial_backoff)})`,
      hint: "make max_backoff at least initial_backoff",
    });
  if (config.models) {
    const seen = new Set<string>();
    config.models.forEach((name, index) => {
      if (seen.has(name))
        problems.push({
          path: ["models", index],
          message: `lists ${JSON.stringify(name)} twice`,
          hint: "list each model once",
        });
      seen.add(name);
    });
    if (options.modelsFromFile) problems.push(...overridesOfUnknownModels(config, config.models, "models"));
  }
  problems.push(...coordinationRules(config));
  problems.push(...modelRules(configForModel(config, ""), config, []));
  for (const name of Object.keys(config.models_overrides))
    problems.push(...modelRules(configForModel(config, name), config, ["models_overrides", name]));
  return problems;
}

/**
 * Overrides naming a model that is not managed: almost always a typo, which would silently drop a safety setting.
 * The loader checks them against a `models` list written in the file (a --models flag only narrows one run); the
 * daemon checks them against models.config's names once it has read it (`where` is then the file, no line).
 */
export function overridesOfUnknownModels(
  config: DaemonConfig,
  known: readonly string[],
  knownFrom = "models.config",
): RuleProblem[] {
  return Object.keys(config.models_overrides)
    .filter((name) => !known.includes(name))
    .map((name) => {
      const suggestion = didYouMean(name, known);
      return {
        path: ["models_overrides", name],
        message: `overrides ${JSON.stringify(name)}, which is not in ${knownFrom}`,
        hint: suggestion
          ? `did you mean ${JSON.stringify(suggestion)}?`
          : `add ${JSON.stringify(name)} to ${knownFrom} or remove its overrides`,
      };
    });
}

/**
 * Rules on one model's view. `prefix` is [] for the global sections, else the override's path; a rule whose keys
 * the override does not touch was already reported for the global sections.
 */
function modelRules(view: ModelConfigView, config: DaemonConfig, prefix: PropertyKey[]): RuleProblem[] {
  const overrides = config.models_overrides[view.name] as Record<string, Record<string, unknown>> | undefined;
  /** The path to blame: the first of `keys` this model overrides (undefined: none, already checked globally). */
  const blame = (section: string, ...keys: string[]): PropertyKey[] | undefined => {
    if (!prefix.length) return [section, keys[0]!];
    const key = keys.find((candidate) => overrides?.[section]?.[candidate] !== undefined);
    return key === undefined ? undefined : [...prefix, section, key];
  };
  const problems: RuleProblem[] = [];
  const { admission, gate } = view;
  const deadline = blame("admission", "incomplete_deadline", "quiet_window");
  if (deadline && admission.incomplete_deadline <= admission.quiet_window)
    problems.push({
      path: deadline,
      message: `incomplete_deadline (${formatDuration(admission.incomplete_deadline)}) must be longer than quiet_window (${formatDuration(admission.quiet_window)}), or every version is reported incomplete before it can be admitted`,
      hint: "raise admission.incomplete_deadline, e.g. incomplete_deadline: 30m",
    });
  const useRest = blame("gate", "use_rest");
  if (useRest && gate.use_rest && config.tf_serving.rest_url === undefined)
    problems.push({
      path: useRest,
      message: "is true but tf_serving.rest_url is not set",
      hint: "set tf_serving.rest_url (or --rest http://HOST:8501), or set gate.use_rest: false",
    });
  const requests = blame("gate", "requests");
  if (requests) problems.push(...duplicateRequestNames(gate.requests, requests));
  const approval = blame("approval", "required", "timeout");
  if (approval && view.approval.required && view.approval.timeout === undefined)
    problems.push({
      path: approval,
      message: "approval is required but approval.timeout is not set: a candidate would wait forever",
      hint: "set approval.timeout (e.g. timeout: 24h) and approval.on_timeout: reject or promote",
    });
  const golden = blame("gate", "golden_files");
  if (golden) problems.push(...missingGoldenFiles(gate.golden_files, golden));
  return problems;
}

/** Golden files are read at every gate run: one that is missing now would fail every candidate. */
function missingGoldenFiles(files: string[], path: PropertyKey[]): RuleProblem[] {
  return files.flatMap((file, index) => {
    let problem: string | undefined;
    try {
      if (!statSync(file).isFile()) problem = `${file} is not a file`;
    } catch (error) {
      problem = `${file} cannot be read (${(error as NodeJS.ErrnoException).code ?? String(error)})`;
    }
    return problem === undefined
      ? []
      : [
          {
            path: [...path, index],
            message: `golden file ${problem}`,
            hint: "relative paths are relative to the config file's directory; give a JSON request file or a TFRecord of PredictionLogs",
          },
        ];
  });
}

function duplicateRequestNames(requests: GateRequestConfig[], path: PropertyKey[]): RuleProblem[] {
  const seen = new Set<string>();
  const problems: RuleProblem[] = [];
  requests.forEach((request, index) => {
    if (seen.has(request.name))
      problems.push({
        path: [...path, index, "name"],
        message: `${JSON.stringify(request.name)} names two requests`,
        hint: "give each gate request its own name (it identifies the request in gate reports)",
      });
    seen.add(request.name);
  });
  return problems;
}

/** Fleet mode: etcd needs endpoints; quorum needs its number; a client certificate needs its key. */
function coordinationRules(config: DaemonConfig): RuleProblem[] {
  const { backend, etcd, fleet } = config.coordination;
  const problems: RuleProblem[] = [];
  if (backend === "etcd" && etcd.endpoints.length === 0)
    problems.push({
      path: ["coordination", "etcd", "endpoints"],
      message: "is empty: backend etcd needs the etcd cluster's client endpoints",
      hint: "set coordination.etcd.endpoints: [etcd-0:2379, etcd-1:2379, etcd-2:2379], or backend: local",
    });
  if (fleet.policy === "quorum" && fleet.quorum === undefined)
    problems.push({
      path: ["coordination", "fleet", "quorum"],
      message: "is not set: policy quorum needs the number of replicas whose pass promotes a version",
      hint: "set coordination.fleet.quorum: N (at least 1), or policy: all",
    });
  const tls = etcd.tls;
  if (tls && (tls.cert === undefined) !== (tls.key === undefined))
    problems.push({
      path: ["coordination", "etcd", "tls", tls.cert === undefined ? "key" : "cert"],
      message: "cert and key go together (a client certificate needs its key)",
      hint: "set both coordination.etcd.tls.cert and coordination.etcd.tls.key, or neither",
    });
  if (tls && tls.ca === undefined)
    problems.push({
      path: ["coordination", "etcd", "tls", "ca"],
      message: "is not set: TLS to etcd needs the CA that signed etcd's certificate",
      hint: "set coordination.etcd.tls.ca: /etc/etcd/ca.pem",
    });
  return problems;
}
