import type { FieldSpec } from "./message-spec.js";
import type { TokenCursor } from "./token-cursor.js";
import { stringTokenBytes, type Token } from "./tokenizer.js";

const INT32_MAX = 2n ** 31n - 1n;
const UINT32_MAX = 2n ** 32n - 1n;
const INT64_MAX = 2n ** 63n - 1n;
const UINT64_MAX = 2n ** 64n - 1n;

/** Per integer type: largest value, whether `-` is allowed, whether the canonical form is a decimal string. */
const INTEGER_TYPES: Record<string, { max: bigint; signed: boolean; long: boolean }> = {
  int32: { max: INT32_MAX, signed: true, long: false },
  sint32: { max: INT32_MAX, signed: true, long: false },
  sfixed32: { max: INT32_MAX, signed: true, long: false },
  uint32: { max: UINT32_MAX, signed: false, long: false },
  fixed32: { max: UINT32_MAX, signed: false, long: false },
  int64: { max: INT64_MAX, signed: true, long: true },
  sint64: { max: INT64_MAX, signed: true, long: true },
  sfixed64: { max: INT64_MAX, signed: true, long: true },
  uint64: { max: UINT64_MAX, signed: false, long: true },
  fixed64: { max: UINT64_MAX, signed: false, long: true },
};

/** Parses one scalar (non-message) field value at the cursor into its canonical form. */
export function consumeScalar(cursor: TokenCursor, field: FieldSpec): unknown {
  const integer = INTEGER_TYPES[field.kind];
  if (integer) {
    const value = integer.signed
      ? consumeSignedInteger(cursor, integer.max)
      : consumeUnsignedInteger(cursor, integer.max);
    return integer.long ? value.toString() : Number(value);
  }
  switch (field.kind) {
    case "double":
      return consumeDouble(cursor);
    case "float":
      return Math.fround(consumeDouble(cursor));
    case "bool":
      return consumeBool(cursor, field.name);
    case "string":
      return consumeString(cursor, "text");
    case "bytes":
      return consumeString(cursor, "bytes");
    case "enum":
      return consumeEnum(cursor, field);
    default:
      throw new Error(`unsupported field type ${field.kind} for field ${field.name}`);
  }
}

/** Parses an integer token's text (decimal, 0x hex, 0-prefixed octal) exactly. */
export function integerTokenValue(text: string): bigint {
  if (/^0[xX]/.test(text)) return BigInt(text);
  if (text.length > 1 && text.startsWith("0")) return BigInt(`0o${text.slice(1)}`);
  return BigInt(text);
}

function consumeUnsignedInteger(cursor: TokenCursor, max: bigint): bigint {
  if (!cursor.lookingAtKind("integer")) cursor.fail(`Expected integer, got: ${cursor.current.text}`);
  const value = integerTokenValue(cursor.current.text);
  if (value > max) cursor.fail(`Integer out of range (${cursor.current.text})`);
  cursor.next();
  return value;
}

function consumeSignedInteger(cursor: TokenCursor, max: bigint): bigint {
  const negative = cursor.tryConsume("-");
  const magnitude = consumeUnsignedInteger(cursor, negative ? max + 1n : max);
  return negative ? -magnitude : magnitude;
}

function consumeDouble(cursor: TokenCursor): number {
  const negative = cursor.tryConsume("-");
  const token = cursor.current;
  let value: number;
  if (token.kind === "integer") {
    if (/^0[xX]/.test(token.text) || (token.text.length > 1 && token.text.startsWith("0"))) {
      cursor.fail(`Expect a decimal number, got: ${token.text}`);
    }
    value = Number(token.text);
  } else if (token.kind === "float") {
    value = Number(token.text.replace(/[fF]$/, ""));
  } else if (token.kind === "identifier") {
    const lower = token.text.toLowerCase();
    if (lower === "inf" || lower === "infinity") value = Infinity;
    else if (lower === "nan") value = NaN;
    else cursor.fail(`Expected double, got: ${token.text}`);
  } else {
    cursor.fail(`Expected double, got: ${token.text}`);
  }
  cursor.next();
  return negative ? -value : value;
}

function consumeBool(cursor: TokenCursor, fieldName: string): boolean {
  if (cursor.lookingAtKind("integer")) return consumeUnsignedInteger(cursor, 1n) === 1n;
  const word = cursor.consumeIdentifier().text;
  if (word === "true" || word === "True" || word === "t") return true;
  if (word === "false" || word === "False" || word === "f") return false;
  cursor.fail(`Invalid value for boolean field "${fieldName}". Value: "${word}".`);
}

/** One string literal, or several adjacent ones concatenated ("a" "b"), as bytes or as UTF-8 text. */
function consumeString(cursor: TokenCursor, as: "bytes" | "text"): string | Buffer {
  if (!cursor.lookingAtKind("string")) cursor.fail(`Expected string, got: ${cursor.current.text}`);
  const parts: Token[] = [];
  while (cursor.lookingAtKind("string")) parts.push(cursor.next());
  if (as === "text" && parts.every((t) => typeof t.value === "string"))
    return parts.map((t) => t.value).join("");
  const bytes =
    parts.length === 1 ? stringTokenBytes(parts[0] as Token) : Buffer.concat(parts.map(stringTokenBytes));
  return as === "text" ? bytes.toString("utf8") : bytes;
}

function consumeEnum(cursor: TokenCursor, field: FieldSpec): string | number {
  const enumType = field.enumType;
  if (!enumType) throw new Error(`field ${field.name} has no enum type`);
  let written: string;
  let name: string | undefined;
  let number: number | undefined;
  if (cursor.lookingAtKind("identifier")) {
    written = cursor.next().text;
    if (Object.hasOwn(enumType.values, written)) name = written;
  } else if (cursor.lookingAt("-") || cursor.lookingAtKind("integer")) {
    number = Number(consumeSignedInteger(cursor, INT32_MAX));
    written = String(number);
    name = enumType.valuesById[number];
  } else {
    cursor.fail(`Expected integer or identifier, got: ${cursor.current.text}`);
  }
  if (name !== undefined) return name;
  // proto3 enums are open: an unknown number is kept as a number (as protobufjs toObject shows it).
  if (number !== undefined) return number;
  cursor.fail(`Unknown enumeration value of "${written}" for field "${field.name}".`);
}

/** Whether a canonical scalar equals its type's default (proto3 fields without presence then count as unset). */
export function isDefaultScalar(field: FieldSpec, value: unknown): boolean {
  if (Buffer.isBuffer(value)) return value.length === 0;
  if (field.kind === "enum") return value === 0 || value === field.enumType?.valuesById[0];
  if (INTEGER_TYPES[field.kind]?.long) return value === "0";
  return value === "" || value === false || Object.is(value, 0);
}
