import type { Logger, LogLevel } from "./options.js";
import { redactText, redactValue } from "./redact.js";

const RANK: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3, off: 4 };

/**
 * The client's logger: drops lines below `level` and redacts every line before the user's logger sees
 * it, so a key cannot leak through logs whatever the caller logs with.
 */
export class LevelLogger {
  readonly #logger: Logger;
  readonly #level: number;
  readonly #secrets: readonly string[];

  constructor(logger: Logger, level: LogLevel, secrets: readonly string[]) {
    this.#logger = logger;
    this.#level = RANK[level];
    this.#secrets = secrets;
  }

  /** Whether lines of `level` are written (to skip building expensive details). */
  enabled(level: Exclude<LogLevel, "off">): boolean {
    return RANK[level] >= this.#level;
  }

  debug(message: string, details?: unknown): void {
    this.#write("debug", message, details);
  }

  info(message: string, details?: unknown): void {
    this.#write("info", message, details);
  }

  warn(message: string, details?: unknown): void {
    this.#write("warn", message, details);
  }

  error(message: string, details?: unknown): void {
    this.#write("error", message, details);
  }

  #write(level: Exclude<LogLevel, "off">, message: string, details: unknown): void {
    if (!this.enabled(level)) return;
    const line = `[knify] ${redactText(message, this.#secrets)}`;
    if (details === undefined) this.#logger[level](line);
    else this.#logger[level](line, redactValue(details, this.#secrets));
  }
}
