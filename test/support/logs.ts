import { Writable } from "node:stream";
import { createLogger, type Logger } from "../../server/src/logger.js";

/** One JSON line the server's logger wrote. */
export type LogLine = Record<string, unknown> & { msg?: string; level?: number };

/**
 * A real pino logger (the server's, with its redaction) whose lines are kept in `lines`, parsed.
 * @example const { logger, lines } = capturedLogger("debug"); … expect(lines.some((l) => l.msg === "…")).toBe(true);
 */
export function capturedLogger(level = "info"): { logger: Logger; lines: LogLine[]; text: () => string } {
  const lines: LogLine[] = [];
  const raw: string[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      for (const line of chunk.toString().split("\n").filter(Boolean)) {
        raw.push(line);
        lines.push(JSON.parse(line));
      }
      done();
    },
  });
  return { logger: createLogger(level, stream), lines, text: () => raw.join("\n") };
}
