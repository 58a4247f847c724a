/** One server-sent event (WHATWG HTML §9.2 "Server-sent events"). */
export interface ServerSentEvent {
  /** The last event id seen so far in the stream (`id:` persists until changed), if any. */
  id: string | undefined;
  /** The `event:` field, `"message"` when absent. */
  event: string;
  /** The `data:` lines joined with `\n`. */
  data: string;
}

/** Options of {@link parseSSE}. */
export interface ParseSSEOptions {
  /** Called when the stream sets its reconnection time (`retry:`, in ms), even in a block without data. */
  onRetry?: ((ms: number) => void) | undefined;
}

/**
 * Parses a `text/event-stream` body into events as they arrive. Follows the WHATWG parsing rules: `\r\n`,
 * `\r` or `\n` line ends (even split across chunks), `:` comments, one optional space after the colon,
 * multi-line `data`, `id` that persists across events and is ignored when it contains NUL, and events
 * without `data` not dispatched. Breaking out of the loop cancels the body.
 */
export async function* parseSSE(
  body: ReadableStream<Uint8Array>,
  options: ParseSSEOptions = {},
): AsyncGenerator<ServerSentEvent, void, undefined> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  let lastId: string | undefined;
  let event = "";
  let data: string[] = [];
  let done = false;
  try {
    while (!done) {
      const chunk = await reader.read();
      done = chunk.done;
      buffer += done ? decoder.decode() : decoder.decode(chunk.value, { stream: true });
      for (;;) {
        const end = lineEnd(buffer, done);
        if (end === undefined) break;
        const line = buffer.slice(0, end.index);
        buffer = buffer.slice(end.index + end.length);
        if (line === "") {
          // A blank line dispatches the event being built.
          if (data.length > 0) yield { id: lastId, event: event || "message", data: data.join("\n") };
          event = "";
          data = [];
          continue;
        }
        if (line.startsWith(":")) continue;
        const colon = line.indexOf(":");
        const field = colon === -1 ? line : line.slice(0, colon);
        let value = colon === -1 ? "" : line.slice(colon + 1);
        if (value.startsWith(" ")) value = value.slice(1);
        if (field === "data") data.push(value);
        else if (field === "event") event = value;
        else if (field === "id" && !value.includes("\0")) lastId = value;
        else if (field === "retry" && /^\d+$/.test(value)) options.onRetry?.(Number(value));
      }
    }
    // At end of stream, an event without its closing blank line is discarded (WHATWG "end of file").
  } finally {
    if (!done) await reader.cancel().catch(() => undefined);
    reader.releaseLock();
  }
}

/** Where the first complete line of `buffer` ends. A trailing `\r` waits for the next chunk: it may be half a `\r\n`. */
function lineEnd(buffer: string, final: boolean): { index: number; length: number } | undefined {
  const index = buffer.search(/[\r\n]/);
  if (index === -1) return final && buffer !== "" ? { index: buffer.length, length: 0 } : undefined;
  if (buffer[index] === "\n") return { index, length: 1 };
  if (index + 1 < buffer.length) return { index, length: buffer[index + 1] === "\n" ? 2 : 1 };
  return final ? { index, length: 1 } : undefined;
}
