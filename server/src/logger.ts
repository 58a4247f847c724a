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

/**
 * The default destination: stdout, written once per event-loop turn. Every line logged while one turn
 * runs (under load, the requests of one poll of the sockets) goes out in one synchronous write through
 * sonic-boom at the end of the turn (`setImmediate`). A write per line, even an asynchronous one (a thread
 * pool hop and its wake-ups per line), was the largest cost of a short request after the socket (issue
 * 11). Lines are never held past the turn that logged them, and what is pending is written on exit; a
 * SIGKILL loses at most the current turn's lines. One batch per process: every logger on stdout shares it.
 */
function stdoutLines(): pino.DestinationStream {
  if (stdout) return stdout;
  const out = pino.destination({ dest: 1, sync: true });
  let pending: string[] = [];
  const flush = () => {
    if (pending.length === 0) return;
    const text = pending.join("");
    pending = [];
    out.write(text);
  };
  process.once("exit", flush);
  stdout = {
    write(line: string) {
      if (pending.push(line) === 1) setImmediate(flush);
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
