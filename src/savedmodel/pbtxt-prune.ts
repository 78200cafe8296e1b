import protobuf from "protobufjs";
import { tokenize, type Token } from "../textformat/tokenizer.js";

/**
 * Real saved_model.pbtxt files hold graph_def, saver_def, stripped_op_list, any_info... which our trimmed protos
 * do not declare, and text format rejects unknown fields. This blanks every field the given type does not know
 * (recursively, through known message and map fields) so the strict parser only sees what we read. Blanking keeps
 * newlines and tabs, so the parser's line:column locations still point into the original file.
 * On any structure it does not understand it stops pruning and lets the parser report the error.
 */
export function pruneUnknownFields(text: string, type: protobuf.Type, fileName: string): string {
  let tokens: Token[];
  try {
    tokens = tokenize(text, fileName);
  } catch {
    return text; // the parser will report the lexical error with its location
  }
  const blanks: [number, number][] = [];
  try {
    pruneMessage(tokens, 0, type, null, blanks);
  } catch (error) {
    if (!(error instanceof StructureError)) throw error;
    return text;
  }
  if (blanks.length === 0) return text;
  let out = "";
  let last = 0;
  for (const [start, end] of blanks) {
    out += text.slice(last, start) + text.slice(start, end).replace(/[^\n\r\t]/g, " ");
    last = end;
  }
  return out + text.slice(last);
}

class StructureError extends Error {}

const OPEN: Record<string, string> = { "{": "}", "<": ">", "[": "]" };

function at(tokens: Token[], index: number): Token {
  const token = tokens[index];
  if (!token) throw new StructureError("unexpected end of tokens");
  return token;
}

/** Walks fields from `index` up to `closing` (or the end token); returns the index after the closing symbol. */
function pruneMessage(
  tokens: Token[],
  index: number,
  type: protobuf.Type | null,
  closing: string | null,
  blanks: [number, number][],
): number {
  let i = index;
  while (true) {
    const token = at(tokens, i);
    if (closing === null && token.kind === "end") return i;
    if (closing !== null && token.kind === "symbol" && token.text === closing) return i + 1;
    const fieldStart = token.start;
    let name: string;
    if (token.kind === "symbol" && token.text === "[") {
      // Extension or Any type URL: never declared in our protos.
      i = skipBalanced(tokens, i);
      name = "";
    } else if (token.kind === "identifier") {
      name = token.text;
      i++;
    } else throw new StructureError(`unexpected token ${token.text}`);
    const field = type && name ? fieldOf(type, name) : undefined;
    const afterName = at(tokens, i);
    const hasColon = afterName.kind === "symbol" && afterName.text === ":";
    if (hasColon) i++;
    if (field === undefined) {
      i = skipValue(tokens, i);
      i = skipSeparator(tokens, i);
      blanks.push([fieldStart, at(tokens, i - 1).end]);
      continue;
    }
    i = pruneValue(tokens, i, field, blanks);
    i = skipSeparator(tokens, i);
  }
}

function fieldOf(type: protobuf.Type, name: string): protobuf.Field | undefined {
  // Text format also accepts a group's type name; our protos have no groups, so field names suffice.
  return type.fields[name];
}

/** A known field's value: messages recurse, maps recurse into their value type, lists hold either. */
function pruneValue(
  tokens: Token[],
  index: number,
  field: protobuf.Field,
  blanks: [number, number][],
): number {
  const token = at(tokens, index);
  if (token.kind === "symbol" && token.text === "[") {
    let i = index + 1;
    while (true) {
      const next = at(tokens, i);
      if (next.kind === "symbol" && next.text === "]") return i + 1;
      i = pruneValue(tokens, i, field, blanks);
      const separator = at(tokens, i);
      if (separator.kind === "symbol" && separator.text === ",") i++;
    }
  }
  if (token.kind === "symbol" && (token.text === "{" || token.text === "<")) {
    const close = OPEN[token.text]!;
    return pruneMessage(tokens, index + 1, entryType(field), close, blanks);
  }
  return skipValue(tokens, index);
}

/** The type whose fields appear inside `{ }` for this field; maps get a synthetic {key, value} entry type. */
function entryType(field: protobuf.Field): protobuf.Type | null {
  if (field instanceof protobuf.MapField) {
    const entry = new protobuf.Type(`${field.name}Entry`);
    entry.add(new protobuf.Field("key", 1, field.keyType));
    const value = new protobuf.Field("value", 2, field.type);
    value.resolvedType = field.resolvedType;
    entry.add(value);
    return entry;
  }
  return field.resolvedType instanceof protobuf.Type ? field.resolvedType : null;
}

/** Skips one value of an unknown field: a bracketed message/list, or a scalar (sign, adjacent strings). */
function skipValue(tokens: Token[], index: number): number {
  const token = at(tokens, index);
  if (token.kind === "symbol" && OPEN[token.text] !== undefined) return skipBalanced(tokens, index);
  let i = index;
  if (token.kind === "symbol" && token.text === "-") i++;
  const value = at(tokens, i);
  if (value.kind === "end" || value.kind === "symbol") throw new StructureError(`unexpected ${value.text}`);
  i++;
  if (value.kind === "string") while (at(tokens, i).kind === "string") i++;
  return i;
}

function skipBalanced(tokens: Token[], index: number): number {
  const stack: string[] = [];
  let i = index;
  do {
    const token = at(tokens, i);
    if (token.kind === "end") throw new StructureError("unbalanced brackets");
    if (token.kind === "symbol") {
      const close = OPEN[token.text];
      if (close !== undefined) stack.push(close);
      else if (token.text === stack[stack.length - 1]) stack.pop();
    }
    i++;
  } while (stack.length > 0);
  return i;
}

function skipSeparator(tokens: Token[], index: number): number {
  const token = at(tokens, index);
  return token.kind === "symbol" && (token.text === "," || token.text === ";") ? index + 1 : index;
}
