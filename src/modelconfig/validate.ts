/**
 * Semantic checks of a ModelServerConfig, mirroring TF Serving's own (facts sheet §1, §3, §4).
 *
 * - severity "error": TF Serving rejects the config (startup fails, the reload RPC or file poll fails). The message
 *   is TF Serving's own wording where known.
 * - severity "warning": TF Serving accepts the config but it bites later: versions unload, the server will not
 *   restart, version discovery freezes for every model, or a reload RPC blocks forever.
 *
 * Strict label mode (`availableVersions`) is what the daemon uses before a reload: labels are judged as if
 * `--allow_version_labels_for_unavailable_models` were off, so a label naming a version that is not AVAILABLE is an
 * error with TF's FAILED_PRECONDITION message.
 */
import { readdir } from "node:fs/promises";
import { join } from "node:path";

/** Canonical plain-object form (`toObject(msg, { longs: String, enums: String })`) of the fields checked here. */
export interface ServableVersionPolicyObject {
  latest?: { num_versions?: number };
  all?: Record<string, never>;
  specific?: { versions?: string[] };
}

export interface ModelConfigObject {
  name?: string;
  base_path?: string;
  model_type?: string;
  model_platform?: string;
  model_version_policy?: ServableVersionPolicyObject;
  version_labels?: Record<string, string>;
  logging_config?: Record<string, unknown>;
}

export interface ModelServerConfigObject {
  model_config_list?: { config?: ModelConfigObject[] };
  custom_model_config?: { type_url?: string; value?: Uint8Array };
}

export type Severity = "error" | "warning";

export interface Finding {
  severity: Severity;
  /** Stable identifier of the rule, for programs. */
  code: string;
  /** Model name, when the finding is about one model. */
  model?: string;
  /** Field path in the message, e.g. `model_config_list.config[1].base_path`. */
  path: string;
  message: string;
  hint: string;
}

/** What the file system says about a base path. */
export type BasePathListing =
  { kind: "listed"; names: string[] } | { kind: "missing" } | { kind: "error"; message: string };
export type BasePathProbe = (basePath: string) => Promise<BasePathListing>;

export interface ValidateOptions {
  /**
   * Whether TF Serving runs with `--allow_version_labels_for_unavailable_models=true`. Unless true, labels in the
   * file get a warning: the server would refuse to restart with them.
   */
  allowVersionLabelsForUnavailableModels?: boolean;
  /** Strict label mode: the AVAILABLE versions per model (decimal strings), as observed via GetModelStatus. */
  availableVersions?: Record<string, readonly string[]>;
  /** Checks local base paths and their version directories; omitted means no file-system checks. */
  probe?: BasePathProbe;
}

const TENSORFLOW_PLATFORM = "tensorflow";
const LABEL_NAME = /^[A-Za-z0-9_]+$/;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
// absl::SimpleAtoi: optional surrounding absl::ascii_isspace (space \t \n \v \f \r), optional sign, base-10 digits.
const SIMPLE_ATOI = /^[ \t\n\v\f\r]*([+-]?[0-9]+)[ \t\n\v\f\r]*$/;

export async function validateModelServerConfig(
  config: ModelServerConfigObject,
  options: ValidateOptions = {},
): Promise<Finding[]> {
  const findings = validateRules(config, options);
  if (options.probe) findings.push(...(await validateBasePaths(config, findings, options.probe)));
  return findings;
}

/** The checks that need nothing but the config (and, in strict mode, the observed AVAILABLE versions). */
export function validateRules(config: ModelServerConfigObject, options: ValidateOptions = {}): Finding[] {
  if (config.custom_model_config !== undefined) {
    return [
      {
        severity: "error",
        code: "custom-model-config",
        path: "custom_model_config",
        message: "ModelServer does not yet support custom model config.",
        hint: "the stock tensorflow_model_server only understands model_config_list { config { ... } }",
      },
    ];
  }
  if (config.model_config_list === undefined) {
    return [
      {
        severity: "error",
        code: "config-not-set",
        path: "model_config_list",
        message:
          "ServerModelConfig type not supported by HandleReloadConfigRequest. Only ModelConfigList is currently supported",
        hint: "the file sets no config at all; write model_config_list { } (an empty list unloads every model)",
      },
    ];
  }
  const findings: Finding[] = [];
  const seen = new Set<string>();
  (config.model_config_list.config ?? []).forEach((model, index) => {
    const at = `model_config_list.config[${index}]`;
    const name = model.name ?? "";
    if (seen.has(name)) {
      findings.push(
        finding(
          "error",
          "duplicate-name",
          name,
          `${at}.name`,
          `Illegal to list model ${name} multiple times in config list`,
          "give every config entry a distinct name, or merge the duplicates",
        ),
      );
    }
    seen.add(name);
    findings.push(...checkBasePath(model, name, at), ...checkPlatform(model, name, at));
    findings.push(...checkPolicy(model, name, at), ...checkLabels(model, name, at, options));
  });
  findings.push(...checkAllowLabelsFlag(config.model_config_list.config ?? [], options));
  return findings;
}

function checkBasePath(model: ModelConfigObject, name: string, at: string): Finding[] {
  const basePath = model.base_path ?? "";
  if (!isRelativeUri(basePath)) return [];
  return [
    finding(
      "error",
      "relative-base-path",
      name,
      `${at}.base_path`,
      `Expected model ${name} to have an absolute path or URI; got base_path()=${basePath}`,
      basePath.includes("${")
        ? "TF Serving does not expand ${VARIABLES} in the config file; write the absolute path itself"
        : "write an absolute path (starting with /) or a URI such as gs://bucket/models/NAME",
    ),
  ];
}

/** tensorflow_serving UriIsRelativePath: no `scheme://` and not starting with '/'. */
function isRelativeUri(uri: string): boolean {
  if (/^[A-Za-z][A-Za-z0-9.]*:\/\//.test(uri)) return false;
  return !uri.startsWith("/");
}

function checkPlatform(model: ModelConfigObject, name: string, at: string): Finding[] {
  const platform = model.model_platform ?? "";
  const modelType = model.model_type ?? "MODEL_TYPE_UNSPECIFIED";
  const fix = 'write model_platform: "tensorflow" (the only platform the stock binary serves)';
  if (modelType !== "MODEL_TYPE_UNSPECIFIED") {
    // The deprecated model_type still works alone when it is TENSORFLOW.
    if (platform === "" && modelType === "TENSORFLOW") {
      return [
        finding(
          "warning",
          "deprecated-model-type",
          name,
          `${at}.model_type`,
          `Deprecated ModelServerConfig::model_type field used. Prefer ModelServerConfig::model_platform.`,
          `replace model_type: TENSORFLOW by ${fix}`,
        ),
      ];
    }
    const message =
      platform !== ""
        ? "Illegal setting both ModelServerConfig::model_type (deprecated) and ModelServerConfig::model_platform."
        : `ModelServerConfig::model_type choice ${modelType} not supported.`;
    return [
      finding("error", "model-type", name, `${at}.model_type`, message, `remove model_type and ${fix}`),
    ];
  }
  if (platform === "") {
    return [
      finding(
        "error",
        "missing-platform",
        name,
        `${at}.model_platform`,
        `Illegal setting neither ModelServerConfig::model_type (deprecated) nor ModelServerConfig::model_platform, model name is ${name}`,
        fix,
      ),
    ];
  }
  if (platform !== TENSORFLOW_PLATFORM) {
    return [
      finding(
        "error",
        "unsupported-platform",
        name,
        `${at}.model_platform`,
        `Model ${name} requests unsupported platform ${platform}`,
        fix,
      ),
    ];
  }
  return [];
}

function checkPolicy(model: ModelConfigObject, name: string, at: string): Finding[] {
  const specific = model.model_version_policy?.specific;
  if (specific === undefined || (specific.versions ?? []).length > 0) return [];
  return [
    finding(
      "warning",
      "empty-specific",
      name,
      `${at}.model_version_policy.specific`,
      `No specific versions requested for servable ${name}.`,
      "an empty specific {} list unloads every version of the model; list the versions to serve",
    ),
  ];
}

/** One warning per file: without the flag, TF Serving checks labels before any model has loaded, and fails. */
function checkAllowLabelsFlag(models: ModelConfigObject[], options: ValidateOptions): Finding[] {
  if (options.availableVersions !== undefined || options.allowVersionLabelsForUnavailableModels === true)
    return [];
  const labelled = models.flatMap((m, index) =>
    Object.keys(m.version_labels ?? {}).length > 0 ? [index] : [],
  );
  if (labelled.length === 0) return [];
  return [
    {
      severity: "warning",
      code: "labels-need-allow-flag",
      path: `model_config_list.config[${labelled[0]}].version_labels`,
      message:
        `version labels in the config file (${labelled.length} model${labelled.length === 1 ? "" : "s"}) make ` +
        "TF Serving refuse to start unless it runs with --allow_version_labels_for_unavailable_models=true",
      hint:
        "start tensorflow_model_server with --allow_version_labels_for_unavailable_models=true " +
        "(tfs-rollout config check --allow-version-labels if it already does)",
    },
  ];
}

function checkLabels(
  model: ModelConfigObject,
  name: string,
  at: string,
  options: ValidateOptions,
): Finding[] {
  const labels = Object.entries(model.version_labels ?? {});
  if (labels.length === 0) return [];
  const findings: Finding[] = [];
  const policy = model.model_version_policy ?? {};
  const specific = policy.specific ? new Set(policy.specific.versions ?? []) : undefined;
  const strict = options.availableVersions;
  for (const [label, version] of labels) {
    const path = `${at}.version_labels["${label}"]`;
    if (!LABEL_NAME.test(label)) {
      findings.push(
        finding(
          "warning",
          "label-name",
          name,
          path,
          `label "${label}" is not made of [A-Za-z0-9_]+`,
          "REST routes only some label names and the docs promise [A-Za-z0-9_]+; rename the label",
        ),
      );
    }
    if (strict !== undefined) {
      if (!(strict[name] ?? []).includes(version)) {
        findings.push(
          finding(
            "error",
            "label-unavailable",
            name,
            path,
            `Request to assign label to version ${version} of model ${name}, which is not currently available for inference`,
            "load the version first (reload with it in the policy, wait for AVAILABLE), then move the label in a second reload",
          ),
        );
      }
    }
    if (specific === undefined) {
      findings.push(
        finding(
          "warning",
          "label-without-specific",
          name,
          path,
          `label "${label}" points to version ${version} under the ${policy.all ? "all" : "latest"} policy`,
          "the labelled version unloads whenever the policy moves past it; label only versions pinned in a specific { versions } policy",
        ),
      );
    } else if (!specific.has(version)) {
      findings.push(
        finding(
          "warning",
          "label-outside-specific",
          name,
          path,
          `label "${label}" points to version ${version}, which the specific policy does not serve`,
          `add versions: ${version} to the specific policy, or point the label at a listed version`,
        ),
      );
    }
  }
  return findings;
}

/** File-system checks of local absolute base paths; skips models whose base path is already an error, and URIs. */
async function validateBasePaths(
  config: ModelServerConfigObject,
  earlier: readonly Finding[],
  probe: BasePathProbe,
): Promise<Finding[]> {
  const badPaths = new Set(earlier.filter((f) => f.code === "relative-base-path").map((f) => f.path));
  const models = config.model_config_list?.config ?? [];
  const results = await Promise.all(
    models.map(async (model, index) => {
      const at = `model_config_list.config[${index}]`;
      const basePath = model.base_path ?? "";
      if (badPaths.has(`${at}.base_path`) || !basePath.startsWith("/")) return [];
      return checkVersionDirs(model, model.name ?? "", at, basePath, await probe(basePath));
    }),
  );
  return results.flat();
}

function checkVersionDirs(
  model: ModelConfigObject,
  name: string,
  at: string,
  basePath: string,
  listing: BasePathListing,
): Finding[] {
  const path = `${at}.base_path`;
  if (listing.kind === "missing") {
    return [
      finding(
        "warning",
        "missing-base-path",
        name,
        path,
        `Could not find base path ${basePath} for servable ${name}`,
        "one missing base path freezes version discovery for EVERY model, and a reload adding this model blocks forever; create the directory with a numeric version inside before reloading",
      ),
    ];
  }
  if (listing.kind === "error") {
    return [
      finding(
        "warning",
        "unreadable-base-path",
        name,
        path,
        `cannot list base path ${basePath} for servable ${name}: ${listing.message}`,
        "TF Serving must be able to list the base path; fix its permissions",
      ),
    ];
  }
  const { versions, duplicates } = collectVersionDirs(listing.names);
  const findings = duplicates.map(({ version, kept, ignored }) =>
    finding(
      "warning",
      "duplicate-version-dir",
      name,
      path,
      `Duplicate version directories detected. Version ${version} will be loaded from ${join(basePath, kept)}, ${join(basePath, ignored)} will be ignored.`,
      `remove or rename ${join(basePath, ignored)}; keep one directory per version number`,
    ),
  );
  if (versions.size === 0) {
    findings.push(
      finding(
        "warning",
        "no-version-dirs",
        name,
        path,
        `No versions of servable ${name} found under base path ${basePath}. Did you forget to name your leaf directory as a number (eg. '/1/')?`,
        "TF Serving unloads the model, and a reload adding it blocks forever; put the SavedModel in a numeric subdirectory such as 1/",
      ),
    );
    return findings;
  }
  const requested = model.model_version_policy?.specific?.versions ?? [];
  const missing = requested.filter((v) => !versions.has(v));
  const allMissing = missing.length === requested.length;
  for (const version of missing) {
    findings.push(
      finding(
        "warning",
        "specific-version-missing",
        name,
        `${at}.model_version_policy.specific.versions`,
        `Version ${version} of servable ${name}, which was requested to be served as a 'specific' version in the servable's version policy, was not found in the file system`,
        allMissing
          ? "none of the specific versions exists, so the model unloads entirely; copy the version in (under a non-numeric name, then rename) before reloading"
          : `copy ${join(basePath, version)} in (under a non-numeric name, then rename) or drop it from the list`,
      ),
    );
  }
  return findings;
}

/**
 * A base-path child name read as TF Serving reads it (absl::SimpleAtoi into int64): base-10 digits, optional sign,
 * optional surrounding ASCII whitespace, in int64 range; `1.0`, `v1`, `123.tmp`, `0x10` are not versions.
 * Returns the version as a decimal string.
 */
export function parseVersionDirName(name: string): string | undefined {
  const match = SIMPLE_ATOI.exec(name);
  if (!match?.[1]) return undefined;
  const value = BigInt(match[1]);
  if (value < INT64_MIN || value > INT64_MAX) return undefined;
  return value.toString();
}

/** Children are walked in byte order and the later name wins, as TF Serving does (`005` loses to `5`). */
export function collectVersionDirs(childNames: readonly string[]): {
  versions: Map<string, string>;
  duplicates: { version: string; kept: string; ignored: string }[];
} {
  const sorted = [...childNames].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  const versions = new Map<string, string>();
  const duplicates: { version: string; kept: string; ignored: string }[] = [];
  for (const child of sorted) {
    const version = parseVersionDirName(child);
    if (version === undefined) continue;
    const previous = versions.get(version);
    if (previous !== undefined) duplicates.push({ version, kept: child, ignored: previous });
    versions.set(version, child);
  }
  return { versions, duplicates };
}

/** The real file system: every child name counts (TF does not check that a version is a directory). */
export const localBasePathProbe: BasePathProbe = async (basePath) => {
  try {
    return { kind: "listed", names: await readdir(basePath) };
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") return { kind: "missing" };
    return { kind: "error", message: (error as Error).message };
  }
};

function finding(
  severity: Severity,
  code: string,
  model: string,
  path: string,
  message: string,
  hint: string,
): Finding {
  return { severity, code, model, path, message, hint };
}
