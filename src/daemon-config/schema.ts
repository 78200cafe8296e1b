import { validateDetailed } from "node-cron";
import { z } from "zod";
import { parseByteSize } from "./byte-size.js";
import { parseDuration } from "./duration.js";

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

export const gateRequestSchema = z.strictObject({
  name: nonEmpty,
  signature_name: nonEmpty.optional(),
  inputs: z.record(nonEmpty, z.json()).refine((inputs) => Object.keys(inputs).length > 0, {
    message: "must name at least one input",
  }),
  expected_outputs: z.record(nonEmpty, z.json()).optional(),
  tolerance: z.strictObject({ absolute: tolerance.optional(), relative: tolerance.optional() }).optional(),
});

export const gateSchema = z.strictObject({
  request_deadline: duration({ min: 1 }).optional(),
  use_rest: z.boolean().optional(),
  signature_name: nonEmpty.optional(),
  allow_breaking_signature: z.boolean().optional(),
  requests: z.array(gateRequestSchema).optional(),
});

export const rollbackSchema = z.strictObject({
  action: z.enum(["rename", "delete"]).optional(),
});

export const loggingSchema = z.strictObject({
  level: z.enum(["trace", "debug", "info", "warn", "error", "fatal", "silent"]).optional(),
  pretty: z.boolean().optional(),
});

/** What a model may override (see ModelSettings): only settings that make sense per model. */
export const modelOverridesSchema = z.strictObject({
  watch: watchSchema.pick({ use_polling: true, poll_interval: true }).optional(),
  admission: admissionSchema.optional(),
  rollout: rolloutSchema.pick({ load_deadline: true }).optional(),
  gate: gateSchema.optional(),
  rollback: rollbackSchema.optional(),
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
  logging: loggingSchema.optional(),
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
