import protobuf from "protobufjs";
import { fieldMessage, messageSpec, type FieldSpec, type MessageSpec } from "./message-spec.js";
import { consumeScalar, isDefaultScalar } from "./scalar-values.js";
import type { FieldNode, MessageNode, ValueNode } from "./syntax-tree.js";
import { TokenCursor } from "./token-cursor.js";

export { TextFormatError } from "./text-format-error.js";
export type { FieldNode, MessageNode, ScalarNode, ValueNode } from "./syntax-tree.js";

export interface ParsedTextFormat {
  /** The canonical plain object (see parseTextFormat). */
  message: Record<string, unknown>;
  /** The syntax tree with source offsets; its root spans the whole text. */
  tree: MessageNode;
}

/** protobuf's default TextFormat recursion limit. */
const MAX_DEPTH = 100;

export interface ParseOptions {
  /**
   * Skip fields the type does not declare instead of failing, like C++ `TextFormat::Parser::AllowUnknownField`.
   * For reading files written against the full protos (saved_model.pbtxt) with our trimmed ones; never for
   * models.config, which TF Serving parses strictly.
   */
  allowUnknownFields?: boolean;
}

/**
 * Parses protobuf text format the way C++ `TextFormat::ParseFromString` does, driven by the protobufjs type.
 * Returns the canonical plain object: snake_case names, int64/uint64 as decimal strings, enums as names, bytes as
 * Buffer, maps as plain objects, repeated as arrays, unset fields (and proto3 scalars at their default) absent.
 * Throws TextFormatError (`FILE:LINE:COL: message`) on anything TextFormat rejects.
 */
export function parseTextFormat(
  text: string,
  type: protobuf.Type,
  fileName: string,
  options: ParseOptions = {},
): Record<string, unknown> {
  return parseTextFormatTree(text, type, fileName, options).message;
}

/** Like parseTextFormat, and also returns the syntax tree with source offsets (for byte-preserving editors). */
export function parseTextFormatTree(
  text: string,
  type: protobuf.Type,
  fileName: string,
  options: ParseOptions = {},
): ParsedTextFormat {
  const cursor = new TokenCursor(text, fileName);
  cursor.allowUnknownFields = options.allowUnknownFields ?? false;
  const tree = parseMessageBody(cursor, messageSpec(type), null, 0, 0);
  tree.end = text.length;
  return { message: tree.value, tree };
}

function parseMessageBody(
  cursor: TokenCursor,
  spec: MessageSpec,
  closing: string | null,
  start: number,
  depth: number,
): MessageNode {
  const node: MessageNode = {
    kind: "message",
    start,
    end: start,
    typeName: spec.fullName,
    fields: [],
    value: {},
  };
  const state = new MessageState(node.value);
  const opener = cursor.previous;
  while (true) {
    if (closing === null && cursor.lookingAtKind("end")) break;
    if (closing !== null && cursor.lookingAtKind("end")) {
      cursor.fail(
        `Expected "${closing}", found "".`,
        `the block opened at ${opener.line}:${opener.column} is not closed; add "${closing}"`,
      );
    }
    if (closing !== null && (cursor.lookingAt(">") || cursor.lookingAt("}"))) {
      cursor.consume(closing);
      break;
    }
    const field = parseField(cursor, spec, state, depth);
    if (field) node.fields.push(field);
  }
  node.end = cursor.previous.end;
  return node;
}

function parseField(
  cursor: TokenCursor,
  spec: MessageSpec,
  state: MessageState,
  depth: number,
): FieldNode | undefined {
  const start = cursor.current.start;
  if (spec.isAny && cursor.lookingAt("[")) return parseExpandedAny(cursor, spec, state, depth);
  if (cursor.tryConsume("[")) {
    const name = consumeFullTypeName(cursor);
    cursor.consume("]");
    cursor.fail(`Extension "${name}" is not defined or is not an extension of "${spec.fullName}".`);
  }
  const name = cursor.consumeIdentifier().text;
  const field = spec.fields.get(name);
  if (!field && cursor.allowUnknownFields) {
    skipUnknownField(cursor, depth);
    return undefined;
  }
  if (!field) cursor.fail(`Message type "${spec.fullName}" has no field named "${name}".`);
  state.checkSettable(cursor, field);

  let colon: boolean;
  if (field.kind === "message") colon = cursor.tryConsume(":");
  else {
    cursor.consume(":");
    colon = true;
  }
  const values: ValueNode[] = [];
  let list = false;
  if (field.repeated && cursor.tryConsume("[")) {
    list = true;
    if (!cursor.tryConsume("]")) {
      while (true) {
        values.push(parseValue(cursor, field, state, depth));
        if (cursor.tryConsume("]")) break;
        cursor.consume(",");
      }
    }
  } else {
    values.push(parseValue(cursor, field, state, depth));
  }
  const end = cursor.previous.end;
  if (!cursor.tryConsume(";")) cursor.tryConsume(",");
  return { name, start, colon, list, values, end, separatorEnd: cursor.previous.end };
}

function parseValue(cursor: TokenCursor, field: FieldSpec, state: MessageState, depth: number): ValueNode {
  const start = cursor.current.start;
  if (field.kind !== "message") {
    const value = consumeScalar(cursor, field);
    state.set(field, value);
    return { kind: "scalar", start, end: cursor.previous.end, value };
  }
  const child = parseNestedMessage(cursor, fieldMessage(field), depth);
  state.set(field, child.value);
  return child;
}

function parseNestedMessage(cursor: TokenCursor, spec: MessageSpec, depth: number): MessageNode {
  if (depth + 1 > MAX_DEPTH) cursor.fail("Message is too deep");
  const start = cursor.current.start;
  const closing = cursor.tryConsume("<") ? ">" : (cursor.consume("{"), "}");
  return parseMessageBody(cursor, spec, closing, start, depth + 1);
}

/** `[type.googleapis.com/pkg.Msg] { ... }` inside a google.protobuf.Any: parsed, then stored serialized. */
function parseExpandedAny(
  cursor: TokenCursor,
  spec: MessageSpec,
  state: MessageState,
  depth: number,
): FieldNode {
  const start = cursor.current.start;
  cursor.consume("[");
  let prefix = cursor.consumeIdentifier().text;
  while (cursor.tryConsume(".")) prefix += `.${cursor.consumeIdentifier().text}`;
  cursor.consume("/");
  prefix += "/";
  const typeName = consumeFullTypeName(cursor);
  cursor.consume("]");
  const colon = cursor.tryConsume(":");
  const found = spec.type?.root.lookup(typeName);
  if (!(found instanceof protobuf.Type)) {
    cursor.fail(`Could not find type "${prefix}${typeName}" stored in google.protobuf.Any.`);
  }
  const child = parseNestedMessage(cursor, messageSpec(found), depth);
  if (Object.hasOwn(state.object, "type_url") || Object.hasOwn(state.object, "value")) {
    cursor.fail("Non-repeated Any specified multiple times.");
  }
  state.object.type_url = `${prefix}${typeName}`;
  const bytes = Buffer.from(found.encode(found.fromObject(child.value)).finish());
  if (bytes.length > 0) state.object.value = bytes;
  const end = cursor.previous.end;
  if (!cursor.tryConsume(";")) cursor.tryConsume(",");
  const name = `[${prefix}${typeName}]`;
  return { name, start, colon, list: false, values: [child], end, separatorEnd: cursor.previous.end };
}

/** After an unknown field's name: skips `[: ] value`, a list of values, or a block, then a separator. */
function skipUnknownField(cursor: TokenCursor, depth: number): void {
  const colon = cursor.tryConsume(":");
  if (colon && cursor.tryConsume("[")) {
    if (!cursor.tryConsume("]")) {
      while (true) {
        skipUnknownValue(cursor, depth);
        if (cursor.tryConsume("]")) break;
        cursor.consume(",");
      }
    }
  } else {
    skipUnknownValue(cursor, depth);
  }
  if (!cursor.tryConsume(";")) cursor.tryConsume(",");
}

function skipUnknownValue(cursor: TokenCursor, depth: number): void {
  if (cursor.lookingAt("{") || cursor.lookingAt("<")) {
    if (depth + 1 > MAX_DEPTH) cursor.fail("Message is too deep");
    const closing = cursor.next().text === "<" ? ">" : "}";
    while (!cursor.tryConsume(closing)) {
      if (cursor.lookingAtKind("end")) cursor.fail(`Expected "${closing}", found "".`);
      if (cursor.tryConsume("[")) {
        consumeFullTypeName(cursor);
        if (cursor.tryConsume("/")) consumeFullTypeName(cursor);
        cursor.consume("]");
      } else {
        cursor.consumeIdentifier();
      }
      skipUnknownField(cursor, depth + 1);
    }
    return;
  }
  if (cursor.lookingAtKind("string")) {
    while (cursor.lookingAtKind("string")) cursor.next();
    return;
  }
  cursor.tryConsume("-");
  if (cursor.lookingAtKind("end")) cursor.fail("Expected a value, found end of input.");
  cursor.next();
}

function consumeFullTypeName(cursor: TokenCursor): string {
  let name = cursor.consumeIdentifier().text;
  while (cursor.tryConsume(".")) name += `.${cursor.consumeIdentifier().text}`;
  return name;
}

/** The plain object under construction plus what protobuf's reflection would report as "set". */
class MessageState {
  private readonly oneofs = new Map<string, string>();

  constructor(readonly object: Record<string, unknown>) {}

  checkSettable(cursor: TokenCursor, field: FieldSpec): void {
    if (!field.repeated && Object.hasOwn(this.object, field.name)) {
      cursor.fail(`Non-repeated field "${field.name}" is specified multiple times.`);
    }
    const other = field.oneof === undefined ? undefined : this.oneofs.get(field.oneof);
    if (other !== undefined) {
      cursor.fail(
        `Field "${field.name}" is specified along with field "${other}", another member of oneof "${field.oneof}".`,
      );
    }
  }

  set(field: FieldSpec, value: unknown): void {
    const { object } = this;
    if (field.mapEntry) {
      const map = (object[field.name] ??= {}) as Record<string, unknown>;
      const entry = value as Record<string, unknown>;
      const [keySpec, valueSpec] = field.mapEntry.ordered as [FieldSpec, FieldSpec];
      const key = String(entry.key ?? defaultScalar(keySpec));
      const entryValue = entry.value ?? (valueSpec.kind === "message" ? {} : defaultScalar(valueSpec));
      // defineProperty: a key such as "__proto__" must become an ordinary property.
      Object.defineProperty(map, key, {
        value: entryValue,
        enumerable: true,
        writable: true,
        configurable: true,
      });
    } else if (field.repeated) {
      ((object[field.name] ??= []) as unknown[]).push(value);
    } else {
      if (!field.hasPresence && field.kind !== "message" && isDefaultScalar(field, value)) return;
      object[field.name] = value;
      if (field.oneof !== undefined) this.oneofs.set(field.oneof, field.name);
    }
  }
}

function defaultScalar(field: FieldSpec): unknown {
  switch (field.kind) {
    case "string":
      return "";
    case "bytes":
      return Buffer.alloc(0);
    case "bool":
      return false;
    case "enum":
      return field.enumType?.valuesById[0] ?? 0;
    case "int64":
    case "uint64":
    case "sint64":
    case "fixed64":
    case "sfixed64":
      return "0";
    default:
      return 0;
  }
}
