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
    destination ?? stdoutLines(),
  );
}

let stdout: pino.DestinationStream | undefined;

/** How long a log line may wait for the lines after it before they are written together (ms). */
export const LOG_FLUSH_MS = 20;
/** A batch this large (characters) is written at once, whatever the time. */
const LOG_FLUSH_CHARS = 64 * 1024;

/**
 * The default destination: stdout, written in batches. Lines are kept until `LOG_FLUSH_MS` after the first
 * of a batch (or until it holds `LOG_FLUSH_CHARS`), then written in one synchronous write through
 * sonic-boom. A write per line, even an asynchronous one (a thread pool hop and its wake-ups per line), was
 * the largest cost of a short request after the socket; a write per event-loop turn still cost ~7 % of
 * `GET /jobs/{id}`'s instructions at 10 connections (issue 11, `bench/instructions.mjs`). What is pending is
 * written on exit (a clean stop, `process.exit`, an uncaught error); a SIGKILL loses at most the last
 * `LOG_FLUSH_MS` of lines. One batch per process: every logger on stdout shares it.
 */
function stdoutLines(): pino.DestinationStream {
  if (stdout) return stdout;
  const out = pino.destination({ dest: 1, sync: true });
  let pending: string[] = [];
  let chars = 0;
  let timer: NodeJS.Timeout | undefined;
  const flush = () => {
    clearTimeout(timer);
    timer = undefined;
    if (pending.length === 0) return;
    const text = pending.join("");
    pending = [];
    chars = 0;
    out.write(text);
  };
  process.once("exit", flush);
  stdout = {
    write(line: string) {
      pending.push(line);
      chars += line.length;
      if (chars >= LOG_FLUSH_CHARS) flush();
      // Unref'd: a batch waiting to be written never keeps the process alive (the exit handler writes it).
      else if (timer === undefined) timer = setTimeout(flush, LOG_FLUSH_MS).unref();
    },
  };
  return stdout;
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
