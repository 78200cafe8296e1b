import { validateDetailed } from "node-cron";
import { z } from "zod";
import { parseByteSize } from "./byte-size.js";
import { parseDuration } from "./duration.js";
import { approvalSchema, promotionSchema, retentionSchema } from "./schema-promotion.js";
import { ROLLOUT_EVENT_TYPES } from "../ops/events.js";
import { parseListenAddress } from "../ops/listen-address.js";

/**
 * The shape of the YAML file (after command-line flags are laid over it). Every key is optional here; defaults
 * are merged in afterwards (normalize.ts) so that per-model overrides, which use the same field schemas, stay
 * partial. Objects are strict: an unknown key is an error, never ignored. Durations and sizes come out as
 * numbers (ms, bytes).
 */

function duration(options: { min?: number } = {}) {
  const min = options.min ?? 0;
  return z.unknown().transform((value, ctx) => {
    const parsed = parseDuration(value);
    if (!parsed.ok) {
      ctx.addIssue({ code: "custom", message: parsed.reason, params: { kind: "duration" } });
      return z.NEVER;
    }
    if (parsed.ms < min) {
      ctx.addIssue({ code: "custom", message: `must be at least ${min}ms`, params: { kind: "duration" } });
      return z.NEVER;
    }
    return parsed.ms;
  });
}

const byteSize = z.unknown().transform((value, ctx) => {
  const parsed = parseByteSize(value);
  if (!parsed.ok) {
    ctx.addIssue({ code: "custom", message: parsed.reason });
    return z.NEVER;
  }
  return parsed.bytes;
});

const cron = z.string().superRefine((expression, ctx) => {
  const result = validateDetailed(expression);
  if (!result.valid) {
    const details = result.errors.map((error) => `${error.field}: ${error.message}`).join("; ");
    ctx.addIssue({ code: "custom", message: `is not a valid cron expression (${details || "unparsable"})` });
  }
});

const nonEmpty = z.string().min(1, { message: "must not be empty" });

/** HOST:PORT with a port in 1..65535; IPv6 hosts in brackets. */
const hostPort = z.string().superRefine((address, ctx) => {
  const match = /^(\[[0-9a-fA-F:.]+\]|[^:[\]\s/]+):(\d{1,5})$/.exec(address);
  const port = match ? Number(match[2]) : NaN;
  if (!match || port < 1 || port > 65535)
    ctx.addIssue({ code: "custom", message: "is not HOST:PORT (port 1-65535, IPv6 hosts in brackets)" });
});

const httpUrl = z.string().superRefine((text, ctx) => {
  let url: URL | undefined;
  try {
    url = new URL(text);
  } catch {
    url = undefined;
  }
  if (!url || (url.protocol !== "http:" && url.protocol !== "https:") || !url.host)
    ctx.addIssue({ code: "custom", message: "is not an http:// or https:// URL" });
});

/** A file name inside the version directory: no separators, not `.` or `..`. */
const fileName = nonEmpty.refine((name) => !/[/\\]/.test(name) && name !== "." && name !== "..", {
  message: "must be a plain file name inside the version directory, not a path",
});

const positiveInt = z
  .number()
  .int({ message: "must be a whole number" })
  .min(1, { message: "must be at least 1" });

const modelName = nonEmpty;

export const tlsSchema = z.strictObject({
  ca_file: nonEmpty.optional(),
  cert_file: nonEmpty.optional(),
  key_file: nonEmpty.optional(),
  server_name_override: nonEmpty.optional(),
});

export const retrySchema = z.strictObject({
  attempts: positiveInt.optional(),
  initial_backoff: duration().optional(),
  max_backoff: duration().optional(),
  overall_deadline: duration({ min: 1 }).optional(),
});

export const tfServingSchema = z.strictObject({
  grpc_address: hostPort.optional(),
  rest_url: httpUrl.optional(),
  call_deadline: duration({ min: 1 }).optional(),
  reload_deadline: duration({ min: 1 }).optional(),
  max_receive_message_size: byteSize.optional(),
  tls: tlsSchema.optional(),
  retry: retrySchema.optional(),
});

export const watchSchema = z.strictObject({
  use_polling: z.boolean().optional(),
  poll_interval: duration({ min: 1 }).optional(),
  rescan_cron: cron.optional(),
  resync_cron: cron.optional(),
});

export const admissionSchema = z.strictObject({
  quiet_window: duration().optional(),
  marker_file: fileName.optional(),
  incomplete_deadline: duration({ min: 1 }).optional(),
});

export const rolloutSchema = z.strictObject({
  load_deadline: duration({ min: 1 }).optional(),
  max_parallel_models: positiveInt.optional(),
  reload_coalesce_window: duration().optional(),
});

const tolerance = z.number().min(0, { message: "must be >= 0" });

const share = z
  .number()
  .min(0, { message: "must be between 0 and 1 (a share, e.g. 0.99)" })
  .max(1, { message: "must be between 0 and 1 (a share, e.g. 0.99)" });

/** Elementwise (absolute + relative·|expected|), or with top_k: agreement of each row's top-k class indices. */
export const gateToleranceSchema = z
  .strictObject({
    absolute: tolerance.optional(),
    relative: tolerance.optional(),
    top_k: positiveInt.optional(),
    min_top_k_agreement: share.optional(),
  })
  .refine((t) => t.min_top_k_agreement === undefined || t.top_k !== undefined, {
    message: "needs top_k (the number of top classes compared)",
    path: ["min_top_k_agreement"],
  });

export const gateRequestSchema = z.strictObject({
  name: nonEmpty,
  signature_name: nonEmpty.optional(),
  inputs: z.record(nonEmpty, z.json()).refine((inputs) => Object.keys(inputs).length > 0, {
    message: "must name at least one input",
  }),
  expected_outputs: z.record(nonEmpty, z.json()).optional(),
  tolerance: gateToleranceSchema.optional(),
});

export const gateSchema = z.strictObject({
  request_deadline: duration({ min: 1 }).optional(),
  use_rest: z.boolean().optional(),
  signature_name: nonEmpty.optional(),
  allow_breaking_signature: z.boolean().optional(),
  requests: z.array(gateRequestSchema).optional(),
  golden_files: z.array(nonEmpty).optional(),
  golden_tolerance: gateToleranceSchema.optional(),
  warmup_replay: z
    .strictObject({ enabled: z.boolean().optional(), max_records: positiveInt.optional() })
    .optional(),
  stable_diff: z
    .strictObject({
      enabled: z.boolean().optional(),
      max_absolute: tolerance.optional(),
      max_relative: tolerance.optional(),
      min_argmax_agreement: share.optional(),
      requests: positiveInt.optional(),
    })
    .optional(),
  latency: z
    .strictObject({
      enabled: z.boolean().optional(),
      requests: positiveInt.optional(),
      p50_budget: duration({ min: 1 }).optional(),
      p99_budget: duration({ min: 1 }).optional(),
      max_p50_ratio_vs_stable: z.number().positive({ message: "must be > 0, e.g. 1.5" }).optional(),
      max_p99_ratio_vs_stable: z.number().positive({ message: "must be > 0, e.g. 1.5" }).optional(),
      floor: duration().optional(),
    })
    .optional(),
});

/** After a verified promotion: probe stable for `period`, roll back on failure; keep N previous versions loaded. */
export const bakeSchema = z.strictObject({
  period: duration().optional(),
  probe_cron: cron.optional(),
  keep_previous: z
    .number()
    .int({ message: "must be a whole number" })
    .min(0, { message: "must be >= 0 (0 unloads the previous version after the bake period)" })
    .optional(),
});

export const rollbackSchema = z.strictObject({
  action: z.enum(["rename", "delete"]).optional(),
});

export const loggingSchema = z.strictObject({
  level: z.enum(["trace", "debug", "info", "warn", "error", "fatal", "silent"]).optional(),
  pretty: z.boolean().optional(),
});

/** The ops HTTP server's HOST:PORT (port 0: any free port), or off (the YAML string, or false) for none. */
const listenAddress = z.unknown().transform((value, ctx) => {
  if (value === false || value === "off") return false as const;
  if (typeof value !== "string") {
    ctx.addIssue({ code: "custom", message: "is not HOST:PORT or off" });
    return z.NEVER;
  }
  try {
    parseListenAddress(value);
  } catch (error) {
    ctx.addIssue({
      code: "custom",
      message: (error as Error).message.replace(/^listen address "[^"]*" /, ""),
    });
    return z.NEVER;
  }
  return value;
});

export const httpSchema = z.strictObject({
  listen: listenAddress.optional(),
});

const envName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, {
  message: "is not an environment variable name (letters, digits and _, not starting with a digit)",
});

export const webhookSchema = z.strictObject({
  url: httpUrl,
  secret_env: envName.optional(),
  timeout: duration({ min: 1 }).optional(),
  retries: z
    .number()
    .int({ message: "must be a whole number" })
    .min(0, { message: "must be >= 0" })
    .optional(),
  events: z
    .array(z.enum(ROLLOUT_EVENT_TYPES))
    .min(1, { message: "must list at least one event (omit it for every event)" })
    .optional(),
});

export const notificationsSchema = z.strictObject({
  webhooks: z.array(webhookSchema).optional(),
});

/** An etcd endpoint: HOST:PORT, or an http(s) URL of one. */
const etcdEndpoint = z.string().superRefine((text, ctx) => {
  const address = /^https?:\/\//.test(text) ? text.replace(/^https?:\/\//, "").replace(/\/$/, "") : text;
  if (!/^(\[[0-9a-fA-F:.]+\]|[^:[\]\s/]+):(\d{1,5})$/.test(address))
    ctx.addIssue({ code: "custom", message: "is not HOST:PORT or http(s)://HOST:PORT (an etcd client URL)" });
});

/** Fleet mode (issue 11, docs/fleet.md): many replicas agreeing through etcd; `local` is one daemon alone. */
export const coordinationSchema = z.strictObject({
  backend: z.enum(["local", "etcd"]).optional(),
  replica: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/, {
      message:
        "must be 1-63 letters, digits, '.', '_' or '-', starting with a letter or digit (e.g. the pod name)",
    })
    .optional(),
  etcd: z
    .strictObject({
      endpoints: z.array(etcdEndpoint).optional(),
      prefix: nonEmpty.optional(),
      lease_ttl: duration({ min: 1000 }).optional(),
      dial_timeout: duration({ min: 1 }).optional(),
      tls: z
        .strictObject({ ca: nonEmpty.optional(), cert: nonEmpty.optional(), key: nonEmpty.optional() })
        .optional(),
    })
    .optional(),
  fleet: z
    .strictObject({
      max_loading: positiveInt.optional(),
      policy: z.enum(["all", "quorum"]).optional(),
      quorum: positiveInt.optional(),
    })
    .optional(),
});

/** What a model may override (see ModelSettings): only settings that make sense per model. */
export const modelOverridesSchema = z.strictObject({
  watch: watchSchema.pick({ use_polling: true, poll_interval: true }).optional(),
  admission: admissionSchema.optional(),
  rollout: rolloutSchema.pick({ load_deadline: true }).optional(),
  gate: gateSchema.optional(),
  rollback: rollbackSchema.optional(),
  bake: bakeSchema.optional(),
  promotion: promotionSchema.optional(),
  approval: approvalSchema.optional(),
  retention: retentionSchema.optional(),
});

export const daemonConfigFileSchema = z.strictObject({
  tf_serving: tfServingSchema.optional(),
  model_config_file: nonEmpty.optional(),
  state_dir: nonEmpty.optional(),
  models: z
    .array(modelName)
    .min(1, { message: "must list at least one model (omit it for all models)" })
    .optional(),
  watch: watchSchema.optional(),
  admission: admissionSchema.optional(),
  rollout: rolloutSchema.optional(),
  gate: gateSchema.optional(),
  rollback: rollbackSchema.optional(),
  bake: bakeSchema.optional(),
  promotion: promotionSchema.optional(),
  approval: approvalSchema.optional(),
  retention: retentionSchema.optional(),
  logging: loggingSchema.optional(),
  http: httpSchema.optional(),
  notifications: notificationsSchema.optional(),
  coordination: coordinationSchema.optional(),
  models_overrides: z.record(modelName, modelOverridesSchema).optional(),
});

export type DaemonConfigFile = z.output<typeof daemonConfigFileSchema>;

/**
 * The keys allowed at a key path of the file (model names in models_overrides and list indexes are wildcards),
 * for "did you mean" suggestions; empty when the path does not lead to an object.
 */
export function allowedKeysAt(path: readonly PropertyKey[]): string[] {
  let schema: z.ZodType = daemonConfigFileSchema;
  for (const segment of path) {
    schema = unwrap(schema);
    if (schema instanceof z.ZodObject) {
      const next = (schema.shape as Record<string, z.ZodType>)[String(segment)];
      if (!next) return [];
      schema = next;
    } else if (schema instanceof z.ZodRecord) schema = schema.valueType as z.ZodType;
    else if (schema instanceof z.ZodArray) schema = schema.element as z.ZodType;
    else return [];
  }
  schema = unwrap(schema);
  return schema instanceof z.ZodObject ? Object.keys(schema.shape) : [];
}

function unwrap(schema: z.ZodType): z.ZodType {
  let current = schema;
  while (current instanceof z.ZodOptional) current = current.unwrap() as z.ZodType;
  return current;
}
