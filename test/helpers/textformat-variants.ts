import fc from "fast-check";
import type protobuf from "protobufjs";
import {
  fieldMessage,
  messageSpec,
  type FieldSpec,
  type MessageSpec,
} from "../../src/textformat/message-spec.js";
import { isDefaultScalar } from "../../src/textformat/scalar-values.js";

/** A tiny seeded PRNG (mulberry32), so fast-check controls every formatting choice through one seed. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Writes a canonical message in a randomly chosen but equivalent text-format layout: separators, `:` before `{`,
 * `<>` delimiters, comments, odd whitespace, list syntax, shuffled field order, split and escaped strings,
 * hex/octal integers, enums by number, alternative float spellings.
 */
export function writeVariant(
  message: Record<string, unknown>,
  type: protobuf.Type,
  random: () => number,
): string {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  const chance = (p: number) => random() < p;
  const ws = () => pick([" ", "\n", "\t", "  ", "\n\n    ", " # a comment { [ \" '\n", "\r\n"]);
  const optWs = () => (chance(0.5) ? "" : ws());

  function body(spec: MessageSpec, obj: Record<string, unknown>): string {
    const fields = spec.ordered.filter((f) => Object.hasOwn(obj, f.name));
    for (let i = fields.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [fields[i], fields[j]] = [fields[j] as FieldSpec, fields[i] as FieldSpec];
    }
    return fields.map((f) => field(f, obj[f.name])).join("");
  }

  function field(f: FieldSpec, value: unknown): string {
    let items: unknown[];
    if (f.mapEntry) items = Object.entries(value as object).map(([key, v]) => ({ key, value: v }));
    else if (f.repeated) items = value as unknown[];
    else items = [value];
    const sep = () => pick(["", ",", ";"]) + ws();
    if (f.repeated && items.length > 0 && chance(0.3)) {
      const colon = f.kind === "message" && chance(0.5) ? "" : ":";
      const inner = items.map((item) => optWs() + fieldValue(f, item) + optWs()).join(",");
      return `${f.name}${colon}${optWs()}[${inner}]${sep()}`;
    }
    return items
      .map((item) => {
        const colon = f.kind === "message" && chance(0.5) ? "" : ":";
        return `${f.name}${optWs()}${colon}${colon ? optWs() : ws()}${fieldValue(f, item)}${sep()}`;
      })
      .join("");
  }

  function fieldValue(f: FieldSpec, value: unknown): string {
    if (f.kind === "message") {
      const spec = f.mapEntry ?? fieldMessage(f);
      const [open, close] = chance(0.3) ? ["<", ">"] : ["{", "}"];
      const entry = f.mapEntry ? mapEntryObject(spec, value as { key: string; value: unknown }) : value;
      return `${open}${optWs()}${body(spec, entry as Record<string, unknown>)}${close}`;
    }
    return scalar(f, value);
  }

  function mapEntryObject(
    spec: MessageSpec,
    entry: { key: string; value: unknown },
  ): Record<string, unknown> {
    // Map entries may leave out a key or value at its default; both are written here unless randomly skipped.
    const result: Record<string, unknown> = {};
    const [keySpec, valueSpec] = spec.ordered as [FieldSpec, FieldSpec];
    if (!(isDefaultScalar(keySpec, entry.key) && chance(0.5))) result.key = entry.key;
    if (!(valueSpec.kind !== "message" && isDefaultScalar(valueSpec, entry.value) && chance(0.5))) {
      result.value = entry.value;
    }
    return result;
  }

  function scalar(f: FieldSpec, value: unknown): string {
    switch (f.kind) {
      case "string":
        return stringLiteral(Buffer.from(String(value), "utf8"));
      case "bytes":
        return stringLiteral(value as Buffer);
      case "enum": {
        const number = f.enumType?.values[String(value)];
        return number !== undefined && chance(0.5) ? String(number) : String(value);
      }
      case "double":
      case "float":
        return double(Number(value));
      case "bool":
        return value ? pick(["true", "True", "t", "1"]) : pick(["false", "False", "f", "0"]);
      default:
        return integer(BigInt(String(value)));
    }
  }

  function integer(value: bigint): string {
    const negative = value < 0n;
    const magnitude = negative ? -value : value;
    const digits = pick([
      magnitude.toString(),
      `0x${magnitude.toString(16)}`,
      `0X${magnitude.toString(16).toUpperCase()}`,
      magnitude === 0n ? "0" : `0${magnitude.toString(8)}`,
    ]);
    return negative ? `-${optWs()}${digits}` : digits;
  }

  function double(value: number): string {
    if (Number.isNaN(value)) return pick(["nan", "NaN", "-nan"]);
    if (!Number.isFinite(value)) return (value < 0 ? "-" : "") + pick(["inf", "infinity", "Infinity", "INF"]);
    const sign = value < 0 || Object.is(value, -0) ? "-" : "";
    const abs = Math.abs(value);
    const options = [String(abs), abs.toExponential()];
    if (Number.isInteger(abs) && abs < 1e15) options.push(`${abs}.0`, `${abs}e0`, `${abs}f`, `${abs}.`);
    if (abs < 1 && abs > 0 && !String(abs).includes("e")) options.push(String(abs).slice(1));
    return sign + pick(options);
  }

  function stringLiteral(bytes: Buffer): string {
    const pieces: string[] = [];
    let i = 0;
    while (i < bytes.length || pieces.length === 0) {
      const length = Math.max(1, Math.floor(random() * 4));
      pieces.push(quote(bytes.subarray(i, i + length)));
      i += length;
    }
    return pieces.join(optWs());
  }

  function quote(bytes: Buffer): string {
    const q = pick(['"', "'"]);
    let out = q;
    for (const b of bytes) {
      const ch = String.fromCharCode(b);
      if (b >= 0x20 && b < 0x7f && ch !== q && ch !== "\\" && chance(0.7)) out += ch;
      else if (b === 0x0a && chance(0.5)) out += "\\n";
      else if (chance(0.5)) out += `\\${b.toString(8).padStart(3, "0")}`;
      else out += `\\x${b.toString(16).padStart(2, "0")}`;
    }
    return out + q;
  }

  return optWs() + body(messageSpec(type), message);
}

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/** int64 as canonical decimal strings, biased toward the bounds and 2^53. */
export const int64Arb = fc
  .oneof(
    fc.bigInt({ min: INT64_MIN, max: INT64_MAX }),
    fc.constantFrom(
      INT64_MIN,
      INT64_MAX,
      INT64_MAX - 1n,
      2n ** 53n,
      2n ** 53n + 1n,
      -(2n ** 53n) - 1n,
      0n,
      1n,
    ),
    fc.bigInt({ min: 0n, max: 1000n }),
  )
  .map((v) => v.toString());

/** Strings with characters that need escaping, non-ASCII text and emoji. */
export const trickyStringArb = fc
  .array(
    fc.oneof(
      fc.constantFrom('"', "'", "\\", "\n", "\t", "\r", "\0", "\x7f", "\x01", "é", "😀", "#", "}", "${X}"),
      fc.string({ unit: "grapheme", maxLength: 4 }),
    ),
    { maxLength: 6 },
  )
  .map((parts) => parts.join(""));

const nonEmpty = <T extends string>(arb: fc.Arbitrary<T>) => arb.filter((s) => s.length > 0);

function compact(obj: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(obj).filter(([, v]) => v !== undefined));
}

export const versionPolicyArb: fc.Arbitrary<Record<string, unknown>> = fc.oneof(
  fc.array(int64Arb, { maxLength: 4 }).map((versions) => ({ specific: versions.length ? { versions } : {} })),
  fc
    .option(fc.integer({ min: 1, max: 4294967295 }), { nil: undefined })
    .map((n) => ({ latest: compact({ num_versions: n }) })),
  fc.constant({ all: {} }),
);

export const labelsArb = fc
  .dictionary(
    fc.oneof(
      fc.constantFrom("stable", "canary", "__proto__", ""),
      fc.string({ unit: "grapheme", maxLength: 6 }),
    ),
    int64Arb,
    { maxKeys: 4 },
  )
  .map((labels) => Object.fromEntries(Object.entries(labels)));

const doubleArb = fc.oneof(fc.double(), fc.constantFrom(-0, NaN, Infinity, -Infinity, 0.5, 1e300));

const loggingConfigArb = fc
  .record(
    {
      log_collector_config: fc
        .record(
          { type: nonEmpty(trickyStringArb), filename_prefix: fc.constant("/tmp/log") },
          { requiredKeys: [] },
        )
        .map(compact),
      sampling_config: fc
        .record(
          {
            sampling_rate: doubleArb.filter((d) => !Object.is(d, 0)),
            attributes: fc.integer({ min: -2147483648, max: 2147483647 }).filter((n) => n !== 0),
            per_task_sampling_configs: fc.array(
              fc
                .record(
                  {
                    dc: nonEmpty(trickyStringArb),
                    task_index: fc.integer({ min: -2147483648, max: 2147483647 }),
                    sampling_rate: doubleArb.filter((d) => !Object.is(d, 0)),
                  },
                  { requiredKeys: [] },
                )
                .map(compact),
              { minLength: 1, maxLength: 2 },
            ),
          },
          { requiredKeys: [] },
        )
        .map(compact),
    },
    { requiredKeys: [] },
  )
  .map(compact);

/** One canonical ModelConfig named `name`. */
export function modelConfigArb(name: fc.Arbitrary<string>): fc.Arbitrary<Record<string, unknown>> {
  return fc
    .record(
      {
        name,
        base_path: nonEmpty(trickyStringArb),
        model_type: fc.constantFrom("TENSORFLOW", "OTHER"),
        model_platform: fc.constant("tensorflow"),
        logging_config: loggingConfigArb,
        model_version_policy: versionPolicyArb,
        version_labels: labelsArb.filter((labels) => Object.keys(labels).length > 0),
      },
      { requiredKeys: ["name"] },
    )
    .map(compact);
}

/** Canonical ModelServerConfigs with 0-4 models whose names are unique and non-empty. */
export const modelServerConfigArb: fc.Arbitrary<Record<string, unknown>> = fc
  .uniqueArray(nonEmpty(trickyStringArb), { maxLength: 4 })
  .chain((names) => fc.tuple(...names.map((n) => modelConfigArb(fc.constant(n)))))
  .map((configs) => ({ model_config_list: configs.length ? { config: configs } : {} }));
