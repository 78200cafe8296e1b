/** The slice of a pino logger the state backend needs (pino's `logger.warn(fields, message)` fits as it is). */
export interface StateLogger {
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
}

export const silentLogger: StateLogger = {
  info: () => undefined,
  warn: () => undefined,
};
