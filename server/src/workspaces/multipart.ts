import { randomUUID } from "node:crypto";
import { createWriteStream } from "node:fs";
import { mkdir, rm } from "node:fs/promises";
import { join } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import busboy from "busboy";
import type { CoreRequest } from "../http/request.js";
import { ArchiveError } from "./archive-error.js";
import { type ArchiveLimits, resolveArchiveLimits } from "./limits.js";
import { checkContentType, FRAMING_BYTES, MAX_NAME_BYTES, nameProblem, PARTS_HINT, tooLarge } from "./upload-rules.js";

/** Options of {@link parseWorkspaceUpload}. */
export interface ParseWorkspaceUploadOptions {
  /** Where the uploaded archive is written (created if missing); best on the workspaces' filesystem. */
  tmpDir: string;
  /** `POST /workspaces` needs a `name` part; `PUT /workspaces/{id}` does not. */
  requireName: boolean;
  limits?: Partial<ArchiveLimits>;
}

/** A parsed upload: the archive sits in a temp file until `cleanup()` removes it. */
export interface WorkspaceUpload {
  /** The `name` part, checked against the spec's `WorkspaceName` pattern; undefined when not sent. */
  name: string | undefined;
  archivePath: string;
  archiveBytes: number;
  /** Removes the temp archive; safe to call more than once. */
  cleanup(): Promise<void>;
}

/**
 * Reads a `multipart/form-data` workspace upload (spec: `CreateWorkspaceRequest` / `ReplaceWorkspaceRequest`),
 * streaming the `workspace` file part to a temp file under `tmpDir`. Refuses, with an {@link ArchiveError}:
 * another media type or a missing boundary (415 `unsupported_media_type`), an archive over
 * `maxCompressedBytes` (413), unknown, repeated or missing parts, a bad `name`, a malformed or truncated body,
 * and a client that goes away mid-upload (400 `validation_failed`). The request is never left hanging: every
 * way the body can end settles the promise, and a refusal removes the temp file.
 *
 * After a refusal the rest of the body may be unread; the route should answer with `Connection: close`.
 *
 * @example
 * const upload = await parseWorkspaceUpload(input.request, { tmpDir, requireName: true });
 * try { await replaceDirectoryAtomically(dir, (tmp) => extractArchive(upload.archivePath, tmp)); }
 * finally { await upload.cleanup(); }
 */
export async function parseWorkspaceUpload(
  request: Pick<CoreRequest, "headers" | "body">,
  options: ParseWorkspaceUploadOptions,
): Promise<WorkspaceUpload> {
  const caps = resolveArchiveLimits(options.limits);
  checkContentType(request.headers["content-type"]);
  const maxBodyBytes = caps.maxCompressedBytes + FRAMING_BYTES;
  const declared = Number(request.headers["content-length"]);
  // The server's adapter hands over Node's request itself; any other byte stream is wrapped.
  const source = request.body.stream();
  const req = source instanceof Readable ? source : Readable.from(source, { objectMode: false });
  const complete = () => request.body.complete;
  if (Number.isFinite(declared) && declared > maxBodyBytes) throw tooLarge(caps.maxCompressedBytes);

  let parser: busboy.Busboy;
  try {
    parser = busboy({
      headers: { "content-type": request.headers["content-type"] ?? "" },
      defParamCharset: "utf8",
      limits: {
        // busboy flags a file as truncated once it *reaches* fileSize, so allow one byte more than the cap.
        fileSize: caps.maxCompressedBytes + 1,
        // One part more than allowed of each kind, so that the handlers below see the extra part and can name
        // it; busboy's limits only back them up (its partsLimit fires when the count is *reached*).
        files: 2,
        fields: 2,
        parts: 3,
        fieldSize: MAX_NAME_BYTES + 1,
        headerPairs: 16,
      },
    });
  } catch (error) {
    // busboy throws here for a multipart type without a boundary.
    throw new ArchiveError("unsupported_media_type", `the multipart body is unusable: ${(error as Error).message}`, {
      cause: error,
    });
  }
  const archivePath = join(options.tmpDir, `upload-${randomUUID()}.tar.gz`);
  const cleanup = () => rm(archivePath, { force: true });
  return new Promise<WorkspaceUpload>((resolvePromise, rejectPromise) => {
    let settled = false;
    let name: string | undefined;
    let fileWrite: Promise<number> | undefined;
    let bodyBytes = 0;

    const finish = (error: unknown) => {
      if (settled) return;
      settled = true;
      req.off("data", countBody);
      req.unpipe(parser);
      // Not from inside busboy's own event: it touches its file stream right after emitting 'limit', and
      // destroying it there makes busboy throw (TypeError on a null file stream) out of req's 'data' handler.
      process.nextTick(() => parser.destroy());
      // Wait for the temp file to be closed before removing it, so that no write lands after the removal.
      void (fileWrite ?? Promise.resolve())
        .catch(() => undefined)
        .then(cleanup)
        .then(
          () => rejectPromise(error),
          () => rejectPromise(error),
        );
    };
    const refuse = (message: string) => finish(new ArchiveError("validation_failed", message));

    const countBody = (chunk: Buffer) => {
      bodyBytes += chunk.length;
      if (bodyBytes > maxBodyBytes) finish(tooLarge(caps.maxCompressedBytes));
    };

    parser.on("file", (part: string, stream: Readable) => {
      // busboy destroys a part's stream with an error when the body ends early; our handling is elsewhere.
      stream.on("error", () => undefined);
      if (settled) {
        stream.resume();
        return;
      }
      if (part === "workspace" && fileWrite) {
        stream.resume();
        refuse(`more than one \`workspace\` part: ${PARTS_HINT}`);
        return;
      }
      if (part !== "workspace") {
        stream.resume();
        refuse(
          part === "name"
            ? "part `name` must be a text field, not a file"
            : `unknown part ${JSON.stringify(part ?? "")}: ${PARTS_HINT}`,
        );
        return;
      }
      stream.on("limit", () => finish(tooLarge(caps.maxCompressedBytes)));
      const out = createWriteStream(archivePath, { flags: "wx", mode: 0o600 });
      fileWrite = pipeline(stream, out).then(() => out.bytesWritten);
      // A disk error is the server's (500); a body that ends mid-file is reported by busboy's own error.
      fileWrite.catch((error: unknown) => finish(error));
    });

    parser.on("field", (part: string, value: string, info: busboy.FieldInfo) => {
      if (settled) return;
      if (part === "workspace") {
        refuse("part `workspace` must be a file part (with a filename), e.g. `curl -F workspace=@ws.tar.gz`");
      } else if (part !== "name") {
        refuse(`unknown part ${JSON.stringify(part ?? "")}: ${PARTS_HINT}`);
      } else if (name !== undefined) {
        refuse(`more than one \`name\` part: ${PARTS_HINT}`);
      } else {
        const problem = nameProblem(value, info.valueTruncated);
        if (problem === null) name = value;
        else refuse(problem);
      }
    });

    parser.on("filesLimit", () => refuse(`more than one file part: ${PARTS_HINT}`));
    parser.on("fieldsLimit", () => refuse(`more than one text field: ${PARTS_HINT}`));
    parser.on("partsLimit", () => refuse(`too many parts: ${PARTS_HINT}`));
    parser.on("error", (error: Error) =>
      finish(
        new ArchiveError("validation_failed", `the multipart body is malformed: ${error.message}`, { cause: error }),
      ),
    );
    parser.on("close", () => {
      if (settled) return;
      if (!fileWrite) return refuse(`the \`workspace\` part is missing: ${PARTS_HINT}`);
      if (options.requireName && name === undefined) return refuse(`the \`name\` part is missing: ${PARTS_HINT}`);
      fileWrite.then(
        (archiveBytes) => {
          if (settled) return;
          settled = true;
          req.off("data", countBody);
          resolvePromise({ name, archivePath, archiveBytes, cleanup });
        },
        () => undefined, // already reported through finish()
      );
    });

    // Node reports a client that goes away mid-body as an "aborted" error, then a close with `complete` unset.
    const gone = "the client closed the connection before the upload finished";
    req.on("error", (error) =>
      finish(new ArchiveError("validation_failed", `${gone} (${error.message})`, { cause: error })),
    );
    req.on("close", () => {
      if (!complete()) refuse(gone);
    });
    if (req.readableEnded) {
      // A programming error (something read the body first), not the client's: a plain error, a 500.
      finish(new Error("parseWorkspaceUpload: the request body was already read"));
      return;
    }
    // The client may have gone while the route was busy (auth, lookups) before calling us: 'close' has fired.
    if (req.destroyed && !complete()) {
      refuse(gone);
      return;
    }
    // The listeners above are in place before anything is awaited, so an abort from here on is not missed.
    mkdir(options.tmpDir, { recursive: true }).then(() => {
      if (settled) return;
      req.on("data", countBody);
      req.pipe(parser);
    }, finish);
  });
}
