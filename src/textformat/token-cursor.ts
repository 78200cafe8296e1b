import { TextFormatError } from "./text-format-error.js";
import { tokenize, type Token, type TokenKind } from "./tokenizer.js";

/** Walks the token list the way protobuf's TextFormat ParserImpl does (LookingAt / TryConsume / Consume). */
export class TokenCursor {
  private readonly tokens: Token[];
  private index = 0;
  /** Set by the parser from its options; read while skipping unknown fields. */
  allowUnknownFields = false;

  constructor(
    readonly text: string,
    readonly fileName: string,
  ) {
    this.tokens = tokenize(text, fileName);
  }

  get current(): Token {
    return this.tokens[this.index] as Token;
  }

  /** The token consumed last (its end is where a value or field ends). */
  get previous(): Token {
    return this.tokens[Math.max(0, this.index - 1)] as Token;
  }

  next(): Token {
    const token = this.current;
    if (token.kind !== "end") this.index++;
    return token;
  }

  lookingAt(text: string): boolean {
    return this.current.kind !== "string" && this.current.text === text;
  }

  lookingAtKind(kind: TokenKind): boolean {
    return this.current.kind === kind;
  }

  tryConsume(text: string): boolean {
    if (!this.lookingAt(text)) return false;
    this.next();
    return true;
  }

  consume(text: string): Token {
    if (!this.lookingAt(text)) this.fail(`Expected "${text}", found "${this.current.text}".`);
    return this.next();
  }

  consumeIdentifier(): Token {
    if (!this.lookingAtKind("identifier")) this.fail(`Expected identifier, got: ${this.current.text}`);
    return this.next();
  }

  /** Throws a TextFormatError located at the current token (protobuf reports errors there). */
  fail(message: string, hint?: string): never {
    const at = this.current;
    throw new TextFormatError(this.fileName, at.line, at.column, message, hint);
  }
}
