import { pino } from "pino";

export type Logger = pino.Logger;

/**
 * Structured JSON logs. Secrets never reach a log line: request logs carry no headers or bodies, and
 * these paths are redacted in case an object with them is ever logged.
 */
export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: "knify-server" },
      redact: {
        paths: [
          "authorization",
          "*.authorization",
          "headers.authorization",
          "api_key",
          "*.api_key",
          "secret",
          "*.secret",
        ],
        censor: "[redacted]",
      },
    },
    // Default: stdout written asynchronously. Under load, lines queue behind the write in flight and go out
    // in one syscall, instead of one blocking write per request (5 % of the hot path's CPU, issue 11); at low
    // load each line is written at once. pino flushes it synchronously on exit.
    destination ?? pino.destination({ dest: 1, sync: false }),
  );
}

/**
 * The logger of the one line per request: the same destination, level and bindings as `logger`, without
 * redaction. Those lines carry fixed fields only (method, path without query, status, ids, timing; never
 * headers or bodies), so there is nothing to redact, and the redaction's walk of every object was ~2 % of a
 * short request's CPU (issue 11). Everything else goes through `logger`, redacted.
 */
export function requestLogger(logger: Logger): Logger {
  const destination = (logger as unknown as Record<symbol, pino.DestinationStream>)[pino.symbols.streamSym];
  return pino({ level: logger.level, base: logger.bindings() }, destination);
}
