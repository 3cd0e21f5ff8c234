/** How much the server logs: `debug` adds stacks and clients that hung up; `info` is the default. */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

const LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error'];

/** What went wrong where: given to `onError` along with a request's error. */
export interface ErrorContext {
  /** Also sent to the client (`X-Request-Id`, `error.requestId`), so a user can quote it. */
  requestId: string;
  method: string;
  path: string;
}

export interface Logger {
  readonly level: LogLevel;
  debug(line: string): void;
  warn(line: string): void;
  error(line: string): void;
}

/** `JOBTRACKER_LOG_LEVEL` (or any text) as a level; anything else is `info`. */
export function readLogLevel(value: string | undefined): LogLevel {
  const level = value?.trim().toLowerCase();
  return LEVELS.includes(level as LogLevel) ? (level as LogLevel) : 'info';
}

/** A logger that writes to the console the lines at `level` and above. */
export function createLogger(level: LogLevel): Logger {
  const at = (wanted: LogLevel) => LEVELS.indexOf(wanted) >= LEVELS.indexOf(level);
  return {
    level,
    debug: (line) => at('debug') && console.debug(line),
    warn: (line) => at('warn') && console.warn(line),
    error: (line) => at('error') && console.error(line),
  };
}

/**
 * One line, at most `max` characters, without control characters: what a client put into an error's
 * message (a path, a value) cannot forge log lines or flood the log.
 */
export function oneLine(text: string, max = 300): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: removing them is the point
  const flat = text.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max)}…` : flat;
}

/** An error as one log line: its name and message, no stack. */
export function describeError(error: unknown): string {
  if (error instanceof Error) return oneLine(`${error.name}: ${error.message}`);
  return oneLine(String(error));
}

/**
 * The default `onError`: one line per error (with the request id when there is one), the stack only
 * at debug level, so that a client cannot fill the log by making requests fail.
 */
export function createErrorReporter(logger: Logger) {
  return (error: unknown, context?: ErrorContext): void => {
    const where = context
      ? ` request ${context.requestId} ${context.method} ${oneLine(context.path, 200)}`
      : '';
    logger.error(`[jobtracker] error${where}: ${describeError(error)}`);
    if (logger.level === 'debug' && error instanceof Error && error.stack) logger.debug(error.stack);
  };
}
