// TF Serving's JSON dialect (facts §5): replies may hold bare NaN, Infinity and -Infinity tokens, and int64
// tensors are written as plain JSON integers that JSON.parse would round beyond 2^53.
//
// Hand-written on purpose: json5 (the usual answer) parses NaN/Infinity but rounds big integers and accepts a
// whole other syntax (comments, single quotes); lossless-json keeps big integers but rejects NaN/Infinity. No
// well-kept package does both. Strings and their escapes are still decoded by the native JSON.parse.

export interface LenientParseOptions {
  /**
   * Integer literals beyond ±(2^53 − 1): "bigint" (default) returns them exactly as bigint; "number" rounds them
   * like JSON.parse does. Safe integers and all fractional/exponent numbers are always plain numbers.
   */
  bigIntegers?: "bigint" | "number";
}

export class LenientJsonError extends SyntaxError {
  constructor(
    message: string,
    readonly line: number,
    readonly column: number,
  ) {
    super(`${message} at line ${line} column ${column}`);
    this.name = "LenientJsonError";
  }
}

const WHITESPACE = /[ \t\n\r]*/y;
const NUMBER = /-?(?:0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/y;
// JSON forbids raw control characters inside strings, hence the \u0000-\u001f exclusions.
// eslint-disable-next-line no-control-regex
const PLAIN_STRING = /"[^"\\\u0000-\u001f]*"/y;
// eslint-disable-next-line no-control-regex
const ESCAPED_STRING = /"(?:[^"\\\u0000-\u001f]|\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4}))*"/y;
const WORD = /-?(?:NaN|Infinity)|true|false|null/y;

const WORD_VALUES: Record<string, unknown> = {
  NaN: NaN,
  "-NaN": NaN,
  Infinity: Infinity,
  "-Infinity": -Infinity,
  true: true,
  false: false,
  null: null,
};

/** Parses TF Serving JSON (standard JSON plus bare NaN/Infinity/-Infinity), keeping big integers exact. */
export function parseLenientJson(text: string, options: LenientParseOptions = {}): unknown {
  const exactIntegers = (options.bigIntegers ?? "bigint") === "bigint";
  let pos = 0;

  const fail = (message: string): never => {
    const before = text.slice(0, pos);
    const line = before.split("\n").length;
    const column = pos - before.lastIndexOf("\n");
    throw new LenientJsonError(message, line, column);
  };
  const unexpected = (): never =>
    fail(pos >= text.length ? "Unexpected end of JSON" : `Unexpected ${JSON.stringify(text[pos])}`);

  const skipWhitespace = (): void => {
    WHITESPACE.lastIndex = pos;
    WHITESPACE.test(text);
    pos = WHITESPACE.lastIndex;
  };

  const match = (pattern: RegExp): RegExpExecArray | null => {
    pattern.lastIndex = pos;
    const found = pattern.exec(text);
    if (found) pos = pattern.lastIndex;
    return found;
  };

  const parseString = (): string => {
    const plain = match(PLAIN_STRING);
    if (plain) return plain[0].slice(1, -1);
    const escaped = match(ESCAPED_STRING);
    if (escaped) return JSON.parse(escaped[0]) as string;
    return fail("Bad string");
  };

  const parseValue = (): unknown => {
    skipWhitespace();
    const ch = text[pos];
    if (ch === "{") return parseObject();
    if (ch === "[") return parseArray();
    if (ch === '"') return parseString();
    const word = match(WORD);
    if (word) return WORD_VALUES[word[0]];
    const number = match(NUMBER);
    if (number) {
      const value = Number(number[0]);
      const isInteger = number[1] === undefined && number[2] === undefined;
      return exactIntegers && isInteger && !Number.isSafeInteger(value) ? BigInt(number[0]) : value;
    }
    return unexpected();
  };

  const parseArray = (): unknown[] => {
    pos++;
    const out: unknown[] = [];
    skipWhitespace();
    if (text[pos] === "]") {
      pos++;
      return out;
    }
    while (true) {
      out.push(parseValue());
      skipWhitespace();
      const ch = text[pos++];
      if (ch === "]") return out;
      if (ch !== ",") {
        pos--;
        unexpected();
      }
    }
  };

  const parseObject = (): Record<string, unknown> => {
    pos++;
    const out: Record<string, unknown> = {};
    skipWhitespace();
    if (text[pos] === "}") {
      pos++;
      return out;
    }
    while (true) {
      skipWhitespace();
      if (text[pos] !== '"') unexpected();
      const key = parseString();
      skipWhitespace();
      if (text[pos] !== ":") unexpected();
      pos++;
      // defineProperty so a "__proto__" key stays an own data property, as with JSON.parse.
      Object.defineProperty(out, key, {
        value: parseValue(),
        enumerable: true,
        writable: true,
        configurable: true,
      });
      skipWhitespace();
      const ch = text[pos++];
      if (ch === "}") return out;
      if (ch !== ",") {
        pos--;
        unexpected();
      }
    }
  };

  const value = parseValue();
  skipWhitespace();
  if (pos !== text.length) unexpected();
  return value;
}

/**
 * JSON text in TF Serving's dialect: non-finite numbers as bare NaN/Infinity/-Infinity (its parser accepts
 * them), bigint as exact integer digits, and Buffer/Uint8Array as `{"b64": "..."}` (REST's binary string form).
 */
export function stringifyLenientJson(value: unknown): string {
  if (value === null) return "null";
  switch (typeof value) {
    case "number":
      if (Number.isNaN(value)) return "NaN";
      if (!Number.isFinite(value)) return value > 0 ? "Infinity" : "-Infinity";
      return JSON.stringify(value);
    case "bigint":
      return value.toString();
    case "string":
    case "boolean":
      return JSON.stringify(value);
    case "object": {
      if (value instanceof Uint8Array)
        return `{"b64":${JSON.stringify(Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString("base64"))}}`;
      if (Array.isArray(value))
        return `[${value.map((item) => (item === undefined || typeof item === "function" ? "null" : stringifyLenientJson(item))).join(",")}]`;
      const fields = Object.entries(value)
        .filter(([, item]) => item !== undefined && typeof item !== "function")
        .map(([key, item]) => `${JSON.stringify(key)}:${stringifyLenientJson(item)}`);
      return `{${fields.join(",")}}`;
    }
    default:
      throw new TypeError(`cannot write ${typeof value} as JSON`);
  }
}
