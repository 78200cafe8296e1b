import type protobuf from "protobufjs";
import { fieldMessage, messageSpec, type FieldSpec, type MessageSpec } from "./message-spec.js";
import { isDefaultScalar } from "./scalar-values.js";

/** How to lay out printed text; the defaults are protobuf's own printer style. */
export interface PrintStyle {
  /** One level of indentation. */
  indentUnit: string;
  /** Write `field: {` instead of `field {`. */
  messageColon: boolean;
  /** Everything on one line: `field { a: 1 b: 2 }`. */
  inline: boolean;
}

export const DEFAULT_PRINT_STYLE: PrintStyle = { indentUnit: "  ", messageColon: false, inline: false };

/**
 * Prints a canonical plain object (as parseTextFormat returns it) in protobuf text format: fields in field-number
 * order, `field {` blocks with 2-space indentation, one field per line, map entries sorted by key, strings escaped
 * so they re-parse to exactly the same value. Unset fields and proto3 scalars at their default are left out.
 */
export function printTextFormat(message: Record<string, unknown>, type: protobuf.Type): string {
  const lines = messageLines(messageSpec(type), message, DEFAULT_PRINT_STYLE);
  return lines.map((line) => `${line}\n`).join("");
}

/**
 * Prints one field of `type` (every occurrence, for repeated fields) for insertion into existing text: the first
 * line has no indentation, later lines start with `baseIndent`, and there is no trailing newline.
 */
export function printField(
  type: protobuf.Type,
  fieldName: string,
  value: unknown,
  baseIndent: string,
  style: PrintStyle = DEFAULT_PRINT_STYLE,
): string {
  const field = messageSpec(type).fields.get(fieldName);
  if (!field) throw new Error(`${type.fullName} has no field ${fieldName}`);
  const lines = fieldLines(field, value, style);
  if (style.inline) return lines.map((l) => l.trim()).join(" ");
  return lines.map((line, i) => (i === 0 ? line : baseIndent + line)).join("\n");
}

function messageLines(spec: MessageSpec, message: Record<string, unknown>, style: PrintStyle): string[] {
  for (const name of Object.keys(message)) {
    if (!spec.fields.has(name)) throw new TypeError(`${spec.fullName} has no field "${name}"`);
  }
  const lines: string[] = [];
  for (const field of spec.ordered) {
    if (!Object.hasOwn(message, field.name)) continue;
    lines.push(...fieldLines(field, message[field.name], style));
  }
  return lines;
}

function fieldLines(field: FieldSpec, value: unknown, style: PrintStyle): string[] {
  if (value === undefined || value === null) return [];
  if (field.mapEntry) {
    const entry = field.mapEntry;
    const [keySpec] = entry.ordered as [FieldSpec, FieldSpec];
    const keys = Object.keys(value as object).sort(mapKeyOrder(keySpec));
    return keys.flatMap((key) =>
      occurrenceLines(
        field,
        { key: mapKeyValue(keySpec, key), value: (value as Record<string, unknown>)[key] },
        style,
      ),
    );
  }
  if (field.repeated) {
    if (!Array.isArray(value)) throw new TypeError(`repeated field ${field.name} must be an array`);
    return value.flatMap((item: unknown) => occurrenceLines(field, item, style));
  }
  if (!field.hasPresence && field.kind !== "message" && isDefaultScalar(field, value)) return [];
  return occurrenceLines(field, value, style);
}

function occurrenceLines(field: FieldSpec, value: unknown, style: PrintStyle): string[] {
  if (field.kind !== "message") return [`${field.name}: ${formatScalar(field, value)}`];
  const body = messageLines(fieldMessage(field), (value ?? {}) as Record<string, unknown>, style);
  const open = `${field.name}${style.messageColon ? ":" : ""} {`;
  if (body.length === 0) return [`${open}}`];
  return [open, ...body.map((line) => style.indentUnit + line), "}"];
}

function mapKeyValue(keySpec: FieldSpec, key: string): unknown {
  if (keySpec.kind === "bool") return key === "true";
  if (["int32", "uint32", "sint32", "fixed32", "sfixed32"].includes(keySpec.kind)) return Number(key);
  return key;
}

function mapKeyOrder(keySpec: FieldSpec): (a: string, b: string) => number {
  if (keySpec.kind === "string" || keySpec.kind === "bool") return (a, b) => (a < b ? -1 : a > b ? 1 : 0);
  return (a, b) => {
    const d = BigInt(a) - BigInt(b);
    return d < 0n ? -1 : d > 0n ? 1 : 0;
  };
}

/** Formats one scalar in text format (strings and bytes quoted and escaped). */
export function formatScalar(field: FieldSpec, value: unknown): string {
  switch (field.kind) {
    case "string":
      return quoteBytes(Buffer.from(String(value), "utf8"), true);
    case "bytes":
      return quoteBytes(Buffer.isBuffer(value) ? value : Buffer.from(value as Uint8Array), false);
    case "bool":
      return value ? "true" : "false";
    case "double":
      return formatDouble(Number(value));
    case "float":
      return formatFloat(Number(value));
    case "enum":
      return String(value);
    default:
      // Integers: numbers, decimal strings, bigints and Long objects all print their decimal form.
      return String(value);
  }
}

/** C-style escaping as protobuf does; UTF-8 text stays readable when `utf8` is true. */
export function quoteBytes(bytes: Buffer, utf8: boolean): string {
  let out = '"';
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i] as number;
    if (b === 0x22) out += '\\"';
    else if (b === 0x27) out += "\\'";
    else if (b === 0x5c) out += "\\\\";
    else if (b === 0x0a) out += "\\n";
    else if (b === 0x0d) out += "\\r";
    else if (b === 0x09) out += "\\t";
    else if (b >= 0x20 && b < 0x7f) out += String.fromCharCode(b);
    else if (utf8 && b >= 0x80) {
      const length = utf8SequenceLength(bytes, i);
      if (length > 0) {
        out += bytes.subarray(i, i + length).toString("utf8");
        i += length;
        continue;
      }
      out += octal(b);
    } else out += octal(b);
    i++;
  }
  return `${out}"`;
}

function octal(b: number): string {
  return `\\${b.toString(8).padStart(3, "0")}`;
}

/** Length of a valid UTF-8 sequence starting at i, or 0. */
function utf8SequenceLength(bytes: Buffer, i: number): number {
  const b = bytes[i] as number;
  const length = b >= 0xf0 && b <= 0xf4 ? 4 : b >= 0xe0 ? 3 : b >= 0xc2 ? 2 : 0;
  if (length === 0 || i + length > bytes.length) return 0;
  const chunk = bytes.subarray(i, i + length);
  return Buffer.from(chunk.toString("utf8"), "utf8").equals(chunk) ? length : 0;
}

function formatDouble(value: number): string {
  if (Number.isNaN(value)) return "nan";
  if (value === Infinity) return "inf";
  if (value === -Infinity) return "-inf";
  if (Object.is(value, -0)) return "-0";
  return String(value);
}

/** The shortest decimal that reads back as the same float32. */
function formatFloat(value: number): string {
  if (!Number.isFinite(value) || value === 0) return formatDouble(value);
  for (let precision = 1; precision <= 9; precision++) {
    const text = value.toPrecision(precision);
    if (Math.fround(Number(text)) === value) return String(Number(text));
  }
  return String(value);
}
