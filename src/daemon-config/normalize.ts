import { isAbsolute, resolve } from "node:path";
import { DEFAULT_TOLERANCE, DEFAULT_WEBHOOK, DEFAULTS, defaultStateDir } from "./defaults.js";
import { deepGateOverrides, normalizeDeepGate } from "./gate-normalize.js";
import type { DaemonConfigFile } from "./schema.js";
import type {
  CoordinationConfig,
  DaemonConfig,
  GateRequestConfig,
  ModelOverrides,
  TlsConfig,
} from "./types.js";

export interface NormalizeContext {
  /** Relative paths in the file are relative to the file's directory (flags were resolved against cwd). */
  baseDir: string;
  env: NodeJS.ProcessEnv;
  once: boolean;
  configFile: string | null;
}

/**
 * Defaults < file (with the flags already laid over it): every key filled in, paths made absolute. Returns the
 * config without model_config_file when neither the file nor a flag gave one (the rules report it).
 */
export function normalizeDaemonConfig(file: DaemonConfigFile, context: NormalizeContext): DaemonConfig {
  const path = (value: string) => (isAbsolute(value) ? value : resolve(context.baseDir, value));
  const tfServing = file.tf_serving ?? {};
  const restUrl = tfServing.rest_url;
  const config: DaemonConfig = {
    tf_serving: {
      ...DEFAULTS.tf_serving,
      ...withoutUndefined({ ...tfServing, tls: undefined, retry: undefined }),
      retry: { ...DEFAULTS.tf_serving.retry, ...tfServing.retry },
    },
    model_config_file: file.model_config_file === undefined ? "" : path(file.model_config_file),
    state_dir: path(file.state_dir ?? defaultStateDir(context.env)),
    watch: { ...DEFAULTS.watch, ...file.watch },
    admission: { ...DEFAULTS.admission, ...file.admission },
    rollout: { ...DEFAULTS.rollout, ...file.rollout },
    gate: {
      ...DEFAULTS.gate,
      use_rest: restUrl !== undefined,
      ...withoutUndefined({ ...file.gate, requests: undefined, golden_tolerance: undefined }),
      requests: normalizeRequests(file.gate?.requests) ?? [],
      ...normalizeDeepGate(file.gate, path),
    },
    bake: { ...DEFAULTS.bake, ...file.bake },
    rollback: { ...DEFAULTS.rollback, ...file.rollback },
    promotion: { ...DEFAULTS.promotion, ...file.promotion },
    approval: { ...DEFAULTS.approval, ...file.approval },
    retention: { ...DEFAULTS.retention, ...file.retention },
    logging: { ...DEFAULTS.logging, ...file.logging },
    http: { listen: normalizeListen(file.http?.listen) },
    notifications: {
      webhooks: (file.notifications?.webhooks ?? []).map((hook) => ({ ...DEFAULT_WEBHOOK, ...hook })),
    },
    coordination: normalizeCoordination(file.coordination, path),
    models_overrides: normalizeOverrides(file.models_overrides ?? {}, path),
    once: context.once,
    config_file: context.configFile,
  };
  if (tfServing.tls) config.tf_serving.tls = normalizeTls(tfServing.tls, path);
  if (file.models) config.models = [...file.models];
  return config;
}

/** http.listen: "off" or false disable the ops server (null); absent means the default address. */
function normalizeListen(listen: string | false | undefined): string | null {
  if (listen === false || listen === "off") return null;
  return listen?.trim() ?? DEFAULTS.http.listen;
}

function normalizeTls(tls: TlsConfig, path: (value: string) => string): TlsConfig {
  const out: TlsConfig = {};
  if (tls.ca_file) out.ca_file = path(tls.ca_file);
  if (tls.cert_file) out.cert_file = path(tls.cert_file);
  if (tls.key_file) out.key_file = path(tls.key_file);
  if (tls.server_name_override) out.server_name_override = tls.server_name_override;
  return out;
}

function normalizeCoordination(
  file: DaemonConfigFile["coordination"],
  path: (value: string) => string,
): CoordinationConfig {
  const defaults = DEFAULTS.coordination;
  const etcd = file?.etcd ?? {};
  const tls = etcd.tls;
  return {
    backend: file?.backend ?? defaults.backend,
    ...(file?.replica === undefined ? {} : { replica: file.replica }),
    etcd: {
      ...defaults.etcd,
      ...withoutUndefined({ ...etcd, tls: undefined }),
      endpoints: [...(etcd.endpoints ?? defaults.etcd.endpoints)],
      ...(tls
        ? {
            tls: withoutUndefined({
              ca: tls.ca === undefined ? undefined : path(tls.ca),
              cert: tls.cert === undefined ? undefined : path(tls.cert),
              key: tls.key === undefined ? undefined : path(tls.key),
            }),
          }
        : {}),
    },
    fleet: { ...defaults.fleet, ...withoutUndefined({ ...file?.fleet }) },
  };
}

type FileRequest = NonNullable<NonNullable<DaemonConfigFile["gate"]>["requests"]>[number];

function normalizeRequests(requests: FileRequest[] | undefined): GateRequestConfig[] | undefined {
  return requests?.map((request) => ({
    ...(request as Omit<FileRequest, "tolerance">),
    tolerance: { ...DEFAULT_TOLERANCE, ...request.tolerance },
  }));
}

function normalizeOverrides(
  overrides: NonNullable<DaemonConfigFile["models_overrides"]>,
  path: (value: string) => string,
): Record<string, ModelOverrides> {
  const out: Record<string, ModelOverrides> = {};
  for (const [name, model] of Object.entries(overrides)) {
    const normalized: ModelOverrides = withoutUndefined({ ...model, gate: undefined });
    if (model.gate) {
      const requests = normalizeRequests(model.gate.requests);
      normalized.gate = {
        ...withoutUndefined({ ...model.gate, requests, golden_tolerance: undefined }),
        ...deepGateOverrides(model.gate, path),
      };
    }
    out[name] = normalized;
  }
  return out;
}

function withoutUndefined<T extends object>(value: T): { [K in keyof T]: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as {
    [K in keyof T]: Exclude<T[K], undefined>;
  };
}
