// A JSON DOM that keeps what rapidjson (TF Serving's REST parser, with kParseNanAndInfFlag) knows about each
// number: whether it was written as an integer and which integer types hold it. TF's conversion rules depend on
// that ("2.0" is not an int32, "16777217" is not a lossless float), which JSON.parse would erase.

import { jsonValueToString } from "./rest-json-write.js";
import { ServingError } from "./serving-api.js";

export type JsonNode =
  | { kind: "null" }
  | { kind: "bool"; value: boolean }
  | { kind: "string"; value: string }
  | { kind: "number"; value: number; integer?: bigint }
  | { kind: "array"; items: JsonNode[] }
  | { kind: "object"; members: [string, JsonNode][] };

const INT64_MIN = -(2n ** 63n);
const UINT64_MAX = 2n ** 64n - 1n;

/** Integer literal within int64/uint64 (rapidjson keeps those exact; larger ones become doubles). */
export function integerOf(node: JsonNode): bigint | undefined {
  return node.kind === "number" ? node.integer : undefined;
}

export const isInt = (n: JsonNode): boolean => inRange(n, -(2n ** 31n), 2n ** 31n - 1n);
export const isUint = (n: JsonNode): boolean => inRange(n, 0n, 2n ** 32n - 1n);
export const isInt64 = (n: JsonNode): boolean => inRange(n, INT64_MIN, 2n ** 63n - 1n);
export const isUint64 = (n: JsonNode): boolean => inRange(n, 0n, UINT64_MAX);

function inRange(node: JsonNode, min: bigint, max: bigint): boolean {
  const value = integerOf(node);
  return value !== undefined && value >= min && value <= max;
}

export function member(node: JsonNode, key: string): JsonNode | undefined {
  if (node.kind !== "object") return undefined;
  return node.members.find(([name]) => name === key)?.[1];
}

class ParseFailure extends Error {
  constructor(
    readonly reason: string,
    readonly offset: number,
  ) {
    super(reason);
  }
}

/**
 * Parses a request body like TF Serving's ParseJson; failures are INVALID_ARGUMENT with rapidjson's English
 * messages: `JSON Parse error: <reason> at offset: <n>`.
 */
export function parseRequestJson(text: string): JsonNode {
  if (text.length === 0)
    throw new ServingError("INVALID_ARGUMENT", "JSON Parse error: The document is empty");
  try {
    return new Parser(text).document();
  } catch (error) {
    if (!(error instanceof ParseFailure)) throw error;
    throw new ServingError(
      "INVALID_ARGUMENT",
      `JSON Parse error: ${error.reason} at offset: ${error.offset}`,
    );
  }
}

const NUMBER = /-?(?:0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/y;

class Parser {
  private pos = 0;
  constructor(private readonly text: string) {}

  document(): JsonNode {
    this.skip();
    if (this.pos >= this.text.length) throw new ParseFailure("The document is empty.", this.pos);
    const value = this.value();
    this.skip();
    if (this.pos < this.text.length)
      throw new ParseFailure("The document root must not be followed by other values.", this.pos);
    return value;
  }

  private skip(): void {
    while (this.pos < this.text.length && " \t\n\r".includes(this.text[this.pos]!)) this.pos++;
  }

  private startsWith(word: string): boolean {
    return this.text.startsWith(word, this.pos);
  }

  private value(): JsonNode {
    const ch = this.text[this.pos];
    if (ch === "{") return this.object();
    if (ch === "[") return this.array();
    if (ch === '"') return { kind: "string", value: this.string() };
    for (const [word, node] of [
      ["null", { kind: "null" }],
      ["true", { kind: "bool", value: true }],
      ["false", { kind: "bool", value: false }],
      ["NaN", { kind: "number", value: NaN }],
      ["-NaN", { kind: "number", value: NaN }],
      ["Infinity", { kind: "number", value: Infinity }],
      ["-Infinity", { kind: "number", value: -Infinity }],
      ["Inf", { kind: "number", value: Infinity }],
      ["-Inf", { kind: "number", value: -Infinity }],
    ] as [string, JsonNode][]) {
      if (this.startsWith(word)) {
        this.pos += word.length;
        return node;
      }
    }
    return this.number();
  }

  private number(): JsonNode {
    NUMBER.lastIndex = this.pos;
    const match = NUMBER.exec(this.text);
    if (!match) throw new ParseFailure("Invalid value.", this.pos);
    this.pos = NUMBER.lastIndex;
    const after = this.text[this.pos];
    if (after === ".") throw new ParseFailure("Miss fraction part in number.", this.pos + 1);
    if (after === "e" || after === "E") throw new ParseFailure("Miss exponent in number.", this.pos + 1);
    const value = Number(match[0]);
    if (!Number.isFinite(value)) throw new ParseFailure("Number too big to be stored in double.", this.pos);
    if (match[1] === undefined && match[2] === undefined) {
      const integer = BigInt(match[0]);
      if (integer >= INT64_MIN && integer <= UINT64_MAX) return { kind: "number", value, integer };
    }
    return { kind: "number", value };
  }

  private string(): string {
    this.pos++;
    let out = "";
    while (true) {
      const ch = this.text[this.pos];
      if (ch === undefined) throw new ParseFailure("Missing a closing quotation mark in string.", this.pos);
      if (ch === '"') {
        this.pos++;
        return out;
      }
      if (ch === "\\") {
        const escape = this.text[this.pos + 1];
        const simple: Record<string, string> = {
          '"': '"',
          "\\": "\\",
          "/": "/",
          b: "\b",
          f: "\f",
          n: "\n",
          r: "\r",
          t: "\t",
        };
        if (escape !== undefined && escape in simple) {
          out += simple[escape];
          this.pos += 2;
        } else if (escape === "u") {
          const hex = this.text.slice(this.pos + 2, this.pos + 6);
          if (!/^[0-9a-fA-F]{4}$/.test(hex))
            throw new ParseFailure("Incorrect hex digit after \\u escape in string.", this.pos + 2);
          out += String.fromCharCode(parseInt(hex, 16));
          this.pos += 6;
        } else throw new ParseFailure("Invalid escape character in string.", this.pos + 1);
        continue;
      }
      if (ch < " ") throw new ParseFailure("Invalid encoding in string.", this.pos);
      out += ch;
      this.pos++;
    }
  }

  private array(): JsonNode {
    this.pos++;
    const items: JsonNode[] = [];
    this.skip();
    if (this.text[this.pos] === "]") {
      this.pos++;
      return { kind: "array", items };
    }
    while (true) {
      items.push(this.value());
      this.skip();
      const ch = this.text[this.pos];
      if (ch === ",") {
        this.pos++;
        this.skip();
      } else if (ch === "]") {
        this.pos++;
        return { kind: "array", items };
      } else throw new ParseFailure("Missing a comma or ']' after an array element.", this.pos);
    }
  }

  private object(): JsonNode {
    this.pos++;
    const members: [string, JsonNode][] = [];
    this.skip();
    if (this.text[this.pos] === "}") {
      this.pos++;
      return { kind: "object", members };
    }
    while (true) {
      if (this.text[this.pos] !== '"') throw new ParseFailure("Missing a name for object member.", this.pos);
      const name = this.string();
      this.skip();
      if (this.text[this.pos] !== ":")
        throw new ParseFailure("Missing a colon after a name of object member.", this.pos);
      this.pos++;
      this.skip();
      members.push([name, this.value()]);
      this.skip();
      const ch = this.text[this.pos];
      if (ch === ",") {
        this.pos++;
        this.skip();
      } else if (ch === "}") {
        this.pos++;
        return { kind: "object", members };
      } else throw new ParseFailure("Missing a comma or '}' after an object member.", this.pos);
    }
  }
}

export interface RequestEnvelope {
  doc: Extract<JsonNode, { kind: "object" }>;
  /** "" when absent (the signature then defaults to serving_default). */
  signatureName: string;
  /** INVALID_ARGUMENT `JSON Value: <whole body> <text>`, TF's wording for a badly shaped request. */
  formatError(text: string): ServingError;
}

/** The start shared by TF's Fill*RequestFromJson: parse, require an object, read an optional string signature_name. */
export function parseRequestEnvelope(body: string): RequestEnvelope {
  const doc = parseRequestJson(body);
  const formatError = (text: string): ServingError =>
    new ServingError("INVALID_ARGUMENT", `JSON Value: ${jsonValueToString(doc)} ${text}`);
  if (doc.kind !== "object") throw formatError("Is not object");
  const signature = member(doc, "signature_name");
  if (signature && signature.kind !== "string")
    throw formatError("not formatted correctly. 'signature_name' key must be a string value.");
  return { doc, signatureName: signature?.kind === "string" ? signature.value : "", formatError };
}
