import { TextFormatError } from "./text-format-error.js";

/** Token kinds of protobuf's io::Tokenizer as TextFormat configures it ('#' comments, `1.5f` floats). */
export type TokenKind = "identifier" | "integer" | "float" | "string" | "symbol" | "end";

export interface Token {
  kind: TokenKind;
  /** The exact source text (strings keep their quotes). */
  text: string;
  /** Offsets into the source string (UTF-16 indices): [start, end). */
  start: number;
  end: number;
  /** 1-based, tabs advance to the next multiple of 8 like protobuf's tokenizer. */
  line: number;
  column: number;
  /** For string tokens: the text between the quotes when it has no escapes, else the unescaped bytes. */
  value?: string | Buffer;
}

const TAB_WIDTH = 8;
const SKIP = /(?:[ \n\t\r\v\f]+|#[^\n]*)+/y;
const IDENTIFIER = /[A-Za-z_][A-Za-z0-9_]*/y;
// Strings without escapes (the common case) are sliced in one go.
const PLAIN_DOUBLE_QUOTED = /"([^"\\\n]*)"/y;
const PLAIN_SINGLE_QUOTED = /'([^'\\\n]*)'/y;

const isDigit = (c: string) => c >= "0" && c <= "9";
const isOctal = (c: string) => c >= "0" && c <= "7";
const isHex = (c: string) => isDigit(c) || (c >= "a" && c <= "f") || (c >= "A" && c <= "F");
const isLetter = (c: string) => (c >= "a" && c <= "z") || (c >= "A" && c <= "Z") || c === "_";
const SIMPLE_ESCAPES: Record<string, number> = {
  a: 7,
  b: 8,
  f: 12,
  n: 10,
  r: 13,
  t: 9,
  v: 11,
  "\\": 92,
  "?": 63,
  "'": 39,
  '"': 34,
};

/** Splits text-format source into tokens, ending with one "end" token. Throws TextFormatError on lexical errors. */
export function tokenize(text: string, fileName: string): Token[] {
  const tokens: Token[] = [];
  // Only tabs and non-ASCII text make a column differ from the offset within the line.
  const plainColumns = !/[\t\u0080-\uffff]/.test(text);
  let pos = 0;
  // Tokens never span lines (strings may not), so the line only changes while skipping whitespace.
  let line = 1;
  let lineStart = 0;

  // Like protobuf, columns count UTF-8 bytes and tabs advance to the next multiple of 8; scanning resumes from
  // the last token on the same line.
  let scannedOffset = 0;
  let scannedColumn = 1;
  const columnAt = (offset: number): number => {
    if (plainColumns) return offset - lineStart + 1;
    if (scannedOffset < lineStart || scannedOffset > offset) {
      scannedOffset = lineStart;
      scannedColumn = 1;
    }
    for (; scannedOffset < offset; scannedOffset++) {
      const code = text.charCodeAt(scannedOffset);
      if (code === 9) scannedColumn += TAB_WIDTH - ((scannedColumn - 1) % TAB_WIDTH);
      else scannedColumn += code < 0x80 ? 1 : code < 0x800 ? 2 : code >= 0xd800 && code <= 0xdfff ? 2 : 3;
    }
    return scannedColumn;
  };
  const fail = (message: string, at = pos): never => {
    throw new TextFormatError(fileName, line, columnAt(at), message);
  };
  const advance = () => {
    pos++;
  };
  const peek = (offset = 0) => text[pos + offset] ?? "";

  // Declared once: under tsx, closures created per token are costly (esbuild wraps each with __name).
  const push = (kind: TokenKind, start: number, value?: string | Buffer) => {
    const token: Token = {
      kind,
      text: text.slice(start, pos),
      start,
      end: pos,
      line,
      column: columnAt(start),
    };
    if (value !== undefined) token.value = value;
    tokens.push(token);
  };

  while (true) {
    SKIP.lastIndex = pos;
    if (SKIP.test(text)) {
      for (
        let nl = text.indexOf("\n", pos);
        nl >= 0 && nl < SKIP.lastIndex;
        nl = text.indexOf("\n", nl + 1)
      ) {
        line++;
        lineStart = nl + 1;
      }
      pos = SKIP.lastIndex;
    }
    const start = pos;
    if (pos >= text.length) {
      push("end", start);
      return tokens;
    }
    const c = peek();
    if (isLetter(c)) {
      IDENTIFIER.lastIndex = pos;
      IDENTIFIER.test(text);
      pos = IDENTIFIER.lastIndex;
      push("identifier", start);
    } else if (isDigit(c) || (c === "." && isDigit(peek(1)))) {
      push(consumeNumber(), start);
    } else if (c === '"' || c === "'") {
      const plain = c === '"' ? PLAIN_DOUBLE_QUOTED : PLAIN_SINGLE_QUOTED;
      plain.lastIndex = pos;
      const match = plain.exec(text);
      if (match) {
        pos = plain.lastIndex;
        push("string", start, match[1] ?? "");
      } else {
        push("string", start, consumeString(c));
      }
    } else {
      if (c < " " || c === "\x7f") fail("Invalid control characters encountered in text.");
      advance();
      push("symbol", start);
    }
  }

  function consumeDigits(test: (c: string) => boolean) {
    while (test(peek())) advance();
  }

  function consumeNumber(): TokenKind {
    let isFloat = false;
    if (peek() === "0" && (peek(1) === "x" || peek(1) === "X")) {
      advance();
      advance();
      if (!isHex(peek())) fail('"0x" must be followed by hex digits.');
      consumeDigits(isHex);
    } else if (peek() === "0" && isDigit(peek(1))) {
      consumeDigits(isOctal);
      if (isDigit(peek())) fail("Numbers starting with leading zero must be in octal.");
    } else {
      if (peek() === ".") {
        isFloat = true;
        advance();
      }
      consumeDigits(isDigit);
      if (!isFloat && peek() === ".") {
        isFloat = true;
        advance();
        consumeDigits(isDigit);
      }
      if (peek() === "e" || peek() === "E") {
        isFloat = true;
        advance();
        if (peek() === "-" || peek() === "+") advance();
        if (!isDigit(peek())) fail('"e" must be followed by exponent.');
        consumeDigits(isDigit);
      }
      if (peek() === "f" || peek() === "F") {
        isFloat = true;
        advance();
      }
    }
    if (peek() === ".") {
      fail(
        isFloat
          ? "Already saw decimal point or exponent; can't have another one."
          : "Hex and octal numbers must be integers.",
      );
    }
    return isFloat ? "float" : "integer";
  }

  function consumeString(quote: string): Buffer {
    const bytes: number[] = [];
    advance();
    while (true) {
      const ch = peek();
      if (pos >= text.length) fail("Unexpected end of string.");
      if (ch === "\n") fail("String literals cannot cross line boundaries.");
      if (ch === quote) {
        advance();
        return Buffer.from(bytes);
      }
      if (ch !== "\\") {
        const code = text.charCodeAt(pos);
        if (code < 0x80) {
          bytes.push(code);
          advance();
          continue;
        }
        const codePoint = text.codePointAt(pos) ?? 0;
        const width = codePoint > 0xffff ? 2 : 1;
        for (const b of Buffer.from(text.slice(pos, pos + width), "utf8")) bytes.push(b);
        for (let i = 0; i < width; i++) advance();
        continue;
      }
      const escapeStart = pos;
      advance();
      const e = peek();
      if (e in SIMPLE_ESCAPES) {
        bytes.push(SIMPLE_ESCAPES[e] as number);
        advance();
      } else if (isOctal(e)) {
        let value = 0;
        for (let i = 0; i < 3 && isOctal(peek()); i++) {
          value = value * 8 + Number(peek());
          advance();
        }
        bytes.push(value & 0xff);
      } else if (e === "x" || e === "X") {
        advance();
        if (!isHex(peek())) fail("Expected hex digits for escape sequence.");
        let digits = "";
        for (let i = 0; i < 2 && isHex(peek()); i++) {
          digits += peek();
          advance();
        }
        bytes.push(parseInt(digits, 16));
      } else if (e === "u" || e === "U") {
        const count = e === "u" ? 4 : 8;
        advance();
        let digits = "";
        for (let i = 0; i < count && isHex(peek()); i++) {
          digits += peek();
          advance();
        }
        let codePoint = parseInt(digits, 16);
        if (digits.length !== count || codePoint > 0x10ffff) {
          fail(
            e === "u"
              ? "Expected four hex digits for \\u escape sequence."
              : "Expected eight hex digits up to 10ffff for \\U escape sequence",
            escapeStart,
          );
        }
        // A \u high surrogate followed by a \u low surrogate is one code point, as in protobuf.
        if (codePoint >= 0xd800 && codePoint <= 0xdbff && peek() === "\\" && peek(1) === "u") {
          const low = parseInt(text.slice(pos + 2, pos + 6), 16);
          if (/^[0-9a-fA-F]{4}$/.test(text.slice(pos + 2, pos + 6)) && low >= 0xdc00 && low <= 0xdfff) {
            for (let i = 0; i < 6; i++) advance();
            codePoint = 0x10000 + ((codePoint - 0xd800) << 10) + (low - 0xdc00);
          }
        }
        for (const b of utf8OfCodePoint(codePoint)) bytes.push(b);
      } else {
        fail("Invalid escape sequence in string literal.", escapeStart);
      }
    }
  }
}

/** UTF-8 bytes of a code point; lone surrogates are encoded as-is (CESU style) like protobuf does. */
function utf8OfCodePoint(cp: number): number[] {
  if (cp < 0x80) return [cp];
  if (cp < 0x800) return [0xc0 | (cp >> 6), 0x80 | (cp & 0x3f)];
  if (cp < 0x10000) return [0xe0 | (cp >> 12), 0x80 | ((cp >> 6) & 0x3f), 0x80 | (cp & 0x3f)];
  return [0xf0 | (cp >> 18), 0x80 | ((cp >> 12) & 0x3f), 0x80 | ((cp >> 6) & 0x3f), 0x80 | (cp & 0x3f)];
}

/** The bytes a string token stands for. */
export function stringTokenBytes(token: Token): Buffer {
  const value = token.value ?? "";
  return typeof value === "string" ? Buffer.from(value, "utf8") : value;
}
