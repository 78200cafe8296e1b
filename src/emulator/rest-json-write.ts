// TF Serving's two JSON writers, reproduced byte for byte where practical:
// - rapidjson's PrettyWriter (4-space indent, optional single-line arrays), used for predict replies, error
//   bodies and values quoted in error messages;
// - protobuf's JSON printer with add_whitespace (1-space indent), used for status and metadata replies.

import type { JsonNode } from "./rest-json-parse.js";

interface Level {
  inArray: boolean;
  count: number;
}

/** rapidjson::PrettyWriter: same prefixes, commas, newlines and indentation. */
export class PrettyWriter {
  private out = "";
  private readonly stack: Level[] = [];
  /** rapidjson's kFormatSingleLineArray: array elements joined by ", " on one line. */
  singleLineArrays = false;

  private indent(): void {
    this.out += " ".repeat(this.stack.length * 4);
  }

  private prefix(): void {
    const level = this.stack[this.stack.length - 1];
    if (!level) return;
    if (level.inArray) {
      if (level.count > 0) this.out += this.singleLineArrays ? ", " : ",";
      if (!this.singleLineArrays) {
        this.out += "\n";
        this.indent();
      }
    } else {
      if (level.count > 0) this.out += level.count % 2 === 0 ? ",\n" : ": ";
      else this.out += "\n";
      if (level.count % 2 === 0) this.indent();
    }
    level.count++;
  }

  startObject(): void {
    this.prefix();
    this.out += "{";
    this.stack.push({ inArray: false, count: 0 });
  }

  endObject(): void {
    const level = this.stack.pop()!;
    if (level.count > 0) {
      this.out += "\n";
      this.indent();
    }
    this.out += "}";
  }

  startArray(): void {
    this.prefix();
    this.out += "[";
    this.stack.push({ inArray: true, count: 0 });
  }

  endArray(): void {
    const level = this.stack.pop()!;
    if (level.count > 0 && !this.singleLineArrays) {
      this.out += "\n";
      this.indent();
    }
    this.out += "]";
  }

  key(name: string): void {
    this.string(name);
  }

  string(value: string): void {
    this.raw(quoteJson(value));
  }

  /** A value already in JSON form (numbers, true/false/null). */
  raw(text: string): void {
    this.prefix();
    this.out += text;
  }

  toString(): string {
    return this.out;
  }
}

const SHORT_ESCAPES: Record<string, string> = {
  '"': '\\"',
  "\\": "\\\\",
  "\b": "\\b",
  "\f": "\\f",
  "\n": "\\n",
  "\r": "\\r",
  "\t": "\\t",
};

/** rapidjson string escaping: only quote, backslash and control characters (\u00XX in upper-case hex). */
export function quoteJson(value: string): string {
  // eslint-disable-next-line no-control-regex
  const escaped = value.replace(/["\\\u0000-\u001f]/g, (ch) => {
    return SHORT_ESCAPES[ch] ?? `\\u${ch.charCodeAt(0).toString(16).toUpperCase().padStart(4, "0")}`;
  });
  return `"${escaped}"`;
}

/** printf's %.<precision>g for a finite double. */
export function formatG(value: number, precision: number): string {
  if (value === 0) return Object.is(value, -0) ? "-0" : "0";
  const [, exponentText] = value.toExponential(precision - 1).split("e");
  const exponent = Number(exponentText);
  if (exponent < -4 || exponent >= precision) {
    const [mantissa] = value.toExponential(precision - 1).split("e");
    const trimmed = mantissa!.includes(".") ? mantissa!.replace(/0+$/, "").replace(/\.$/, "") : mantissa!;
    const sign = exponent < 0 ? "-" : "+";
    return `${trimmed}e${sign}${String(Math.abs(exponent)).padStart(2, "0")}`;
  }
  const fixed = value.toFixed(Math.max(0, precision - 1 - exponent));
  return fixed.includes(".") ? fixed.replace(/0+$/, "").replace(/\.$/, "") : fixed;
}

/**
 * json_tensor.cc WriteDecimal: six significant digits (absl::StrCat), or max_digits10 (9 for float, 17 for
 * double) when six do not round-trip; ".0" appended to whole numbers not in exponent form; NaN, Infinity and
 * -Infinity as bare tokens.
 */
export function writeDecimal(value: number, kind: "float" | "double"): string {
  if (Number.isNaN(value)) return "NaN";
  if (!Number.isFinite(value)) return value > 0 ? "Infinity" : "-Infinity";
  const roundTrip = (text: string): number => (kind === "float" ? Math.fround(Number(text)) : Number(text));
  let text = formatG(value, 6);
  if (roundTrip(text) !== value) text = formatG(value, kind === "float" ? 9 : 17);
  if (!text.includes(".") && !text.includes("e")) text += ".0";
  return text;
}

/** rapidjson's own number output (Grisu shortest form, ".0" on whole numbers), used inside quoted values. */
function rapidjsonNumber(node: Extract<JsonNode, { kind: "number" }>): string {
  if (node.integer !== undefined) return node.integer.toString();
  const text = String(node.value).replace("e+", "e");
  return /[.e]/.test(text) || !Number.isFinite(node.value) ? text : `${text}.0`;
}

function writeNode(writer: PrettyWriter, node: JsonNode): void {
  switch (node.kind) {
    case "null":
      return writer.raw("null");
    case "bool":
      return writer.raw(String(node.value));
    case "string":
      return writer.string(node.value);
    case "number":
      return writer.raw(rapidjsonNumber(node));
    case "array":
      writer.startArray();
      node.items.forEach((item) => writeNode(writer, item));
      return writer.endArray();
    case "object":
      writer.startObject();
      for (const [name, value] of node.members) {
        writer.key(name);
        writeNode(writer, value);
      }
      return writer.endObject();
  }
}

/** json_tensor.cc JsonValueToString: how TF quotes a request value in an error message. */
export function jsonValueToString(node: JsonNode): string {
  // rapidjson's IsFloat(): a double (not an integer literal) within float range is written as a float.
  if (node.kind === "number" && node.integer === undefined) {
    const fitsFloat = Math.abs(node.value) <= 3.4028234e38 || !Number.isFinite(node.value);
    return writeDecimal(fitsFloat ? Math.fround(node.value) : node.value, fitsFloat ? "float" : "double");
  }
  const writer = new PrettyWriter();
  writeNode(writer, node);
  return writer.toString();
}

/** `{"error": "<message>"}` as TF Serving writes it (PrettyWriter, 4-space indent). */
export function errorJson(message: string): string {
  const writer = new PrettyWriter();
  writer.startObject();
  writer.key("error");
  writer.string(message);
  writer.endObject();
  return writer.toString();
}

/** A value for `protoJson`: plain objects keep their key order; strings, numbers, booleans as-is. */
export type ProtoJsonValue = string | number | boolean | ProtoJsonValue[] | { [key: string]: ProtoJsonValue };

/** protobuf's MessageToJsonString with add_whitespace: 1-space indent, `"key": value`, trailing newline. */
export function protoJson(value: ProtoJsonValue): string {
  return `${protoJsonValue(value, 0)}\n`;
}

function protoJsonValue(value: ProtoJsonValue, depth: number): string {
  if (typeof value !== "object") return typeof value === "string" ? JSON.stringify(value) : String(value);
  const pad = " ".repeat(depth + 1);
  const close = " ".repeat(depth);
  if (Array.isArray(value)) {
    if (value.length === 0) return "[]";
    return `[\n${value.map((item) => pad + protoJsonValue(item, depth + 1)).join(",\n")}\n${close}]`;
  }
  const entries = Object.entries(value);
  if (entries.length === 0) return "{}";
  const body = entries.map(
    ([key, item]) => `${pad}${JSON.stringify(key)}: ${protoJsonValue(item, depth + 1)}`,
  );
  return `{\n${body.join(",\n")}\n${close}}`;
}
