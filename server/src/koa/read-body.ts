import type { IncomingMessage } from "node:http";
import { ProblemError } from "../http/problem.js";

/**
 * Reads a request body up to `limit` bytes within `timeoutMs`. A declared Content-Length over the limit is
 * refused before reading; a body that grows past it is refused as soon as it does (never buffered whole);
 * a body still incomplete at the deadline gets 408 and its connection is closed (a trickled body would
 * otherwise hold a connection for the whole upload timeout).
 */
export async function readBody(req: IncomingMessage, limit: number, timeoutMs: number): Promise<Buffer> {
  const declared = Number(req.headers["content-length"]);
  if (Number.isFinite(declared) && declared > limit) throw tooLarge(limit);
  const chunks: Buffer[] = [];
  let size = 0;
  return new Promise<Buffer>((resolve, reject) => {
    const timer = setTimeout(() => {
      done();
      req.pause();
      reject(
        new ProblemError(
          "request_timeout",
          `The body did not arrive within ${timeoutMs} ms; send the whole body at once, and retry.`,
          {},
          { Connection: "close" },
        ),
      );
    }, timeoutMs);
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        done();
        req.resume(); // drain the rest so the 413 can be written on a healthy connection
        reject(tooLarge(limit));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      done();
      resolve(Buffer.concat(chunks, size));
    };
    const onError = (error: Error) => {
      done();
      reject(error);
    };
    function done(): void {
      clearTimeout(timer);
      req.off("data", onData).off("end", onEnd).off("error", onError);
    }
    req.on("data", onData).on("end", onEnd).on("error", onError);
  });
}

function tooLarge(limit: number): ProblemError {
  return new ProblemError("payload_too_large", `The body is over the limit of ${limit} bytes.`);
}
