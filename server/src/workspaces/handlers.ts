import { canSee } from "../auth/scope.js";
import type { Clock } from "../clock.js";
import { PATTERNS } from "../generated/constants.js";
import { fromBase64url } from "../http/base64url.js";
import { type Handlers, keyOf, type RequestInput } from "../http/operation.js";
import { page } from "../http/pagination.js";
import { type FieldError, ProblemError } from "../http/problem.js";
import { newId } from "../ids.js";
import type { Store } from "../store/store.js";
import type { WorkspacePosition, WorkspaceRecord } from "../store/workspaces-repo.js";
import { type ArchiveError, isArchiveError } from "./archive-error.js";
import type { ArchiveLimits } from "./limits.js";
import { presentWorkspace, workspaceUpdatedEvent } from "./present.js";
import type { PresetCatalog } from "./presets.js";
import { quotaLeft, uploadOverQuota } from "./quota.js";
import type { StagedUpload, WorkspaceFiles } from "./workspace-files.js";

/** What the workspace handlers need. */
export interface WorkspaceHandlerDeps<U extends StagedUpload> {
  store: Store;
  clock: Clock;
  limits: ArchiveLimits;
  /** The workspaces' files: on disk in the server, in memory in the mock. */
  files: WorkspaceFiles<U>;
  presets: PresetCatalog;
  /** A workspace's disk quota: its files plus its jobs' sandboxes (see `quota.ts`). */
  diskQuotaBytes: number;
}

// The multipart body bypasses the generated validators, so the name is checked against the spec's own pattern.
const NAME_PATTERN = PATTERNS.WorkspaceName;
const nameRegExp = new RegExp(NAME_PATTERN, "u");
// Cursors carry `<created_at ms>.<id>`: a key-scoped workspace keeps its key's id (`ws_team_a`), so ids alone
// neither sort by age nor pass the shared `decodeCursor`, which allows no `_` after the prefix.
const CURSOR = /^(\d{1,16})\.(ws_[A-Za-z0-9_]{1,64})$/;

/**
 * Handlers for the `/workspaces` operations. An upload's files are extracted and swapped in (`deps.files`),
 * and only then is the row (with its `workspace.updated` event) written, so a row never points at missing
 * or half-written files.
 */
export function workspaceHandlers<U extends StagedUpload>(deps: WorkspaceHandlerDeps<U>): Handlers {
  const { store, clock, limits, presets, diskQuotaBytes, files } = deps;
  const serial = new KeyedSerializer();

  /** The workspace in the path, if the key may see it; 404 otherwise (never 403, which would confirm it exists). */
  async function visibleWorkspace(input: RequestInput): Promise<WorkspaceRecord> {
    const id = input.params.workspace_id ?? "";
    if (presets.byId(id)) throw readOnly(id, input);
    const workspace = canSee(keyOf(input), id) ? await store.workspaces.get(id) : null;
    if (!workspace) throw notFound(id);
    return workspace;
  }

  async function readUpload(input: RequestInput, requireName: boolean): Promise<U> {
    try {
      return await files.receive(input.request, requireName);
    } catch (error) {
      throw uploadProblem(error, input);
    }
  }

  /**
   * Extracts the archive beside the files of workspace `id` and swaps it in; a refused archive leaves them as
   * they were. The new files must fit in the disk quota beside the sandboxes of the workspace's jobs: the
   * extraction stops at what is left, and the sum is checked again, against the sandboxes of now, just
   * before the swap.
   */
  async function storeFiles(id: string, upload: U, input: RequestInput) {
    const sandboxBytes = async () => (await store.sandboxes.usage(id)).sandboxBytes;
    const sandboxesBefore = await sandboxBytes();
    const left = quotaLeft({ workspaceBytes: 0, sandboxBytes: sandboxesBefore }, diskQuotaBytes);
    if (left <= 0) throw uploadOverQuota(id, sandboxesBefore, diskQuotaBytes);
    const quotaBinds = left < limits.maxTotalBytes;
    const caps = quotaBinds ? { ...limits, maxTotalBytes: left } : limits;
    try {
      return await files.replace(id, upload, caps, async (counts) => {
        const sandboxes = await sandboxBytes();
        if (quotaLeft({ workspaceBytes: counts.sizeBytes, sandboxBytes: sandboxes }, diskQuotaBytes) < 0) {
          throw uploadOverQuota(id, sandboxes, diskQuotaBytes);
        }
      });
    } catch (error) {
      if (quotaBinds && isArchiveError(error) && error.limit === "maxTotalBytes") {
        throw uploadOverQuota(id, await sandboxBytes(), diskQuotaBytes);
      }
      throw uploadProblem(error, input);
    }
  }

  return {
    createWorkspace: async (input) => {
      const scope = keyOf(input).workspaceId;
      // A scoped key creates exactly its own workspace, once: its workspace id is the key's, so a second is a 409.
      if (scope !== null && (await store.workspaces.get(scope))) throw scopedExists(scope);
      const upload = await readUpload(input, true);
      try {
        const name = checkName(upload.name);
        const preset = presets.byName(name);
        if (preset) throw presetNameTaken(preset);
        // Names are unique per namespace: a scoped key's own, or the one keys without a workspace share.
        const taken = await store.workspaces.getByName(name, scope);
        if (taken) throw nameTaken(taken, scope);
        const id = scope ?? newId("ws");
        return await serial.run(id, async () => {
          if (scope !== null && (await store.workspaces.get(scope))) throw scopedExists(scope);
          const counts = await storeFiles(id, upload, input);
          const now = clock.now();
          const record: WorkspaceRecord = { id, name, createdAt: now, updatedAt: now, ...counts };
          // No row exists for `id` and this id is serialized, so the files just written are ours to remove.
          const outcome = await store.workspaces
            .create(record, workspaceUpdatedEvent(record, now), scope)
            .catch(async (error: unknown) => {
              await files.remove(id);
              throw error;
            });
          if ("conflict" in outcome) {
            await files.remove(id);
            throw outcome.conflict === "id" ? scopedExists(id) : nameTaken(outcome.existing, scope);
          }
          return { body: presentWorkspace(outcome.created) };
        });
      } finally {
        await upload.cleanup();
      }
    },

    listWorkspaces: async (input) => {
      const scope = keyOf(input).workspaceId;
      const { limit } = input.query;
      const after = decodeWorkspaceCursor(input.query.cursor);
      const stored = await store.workspaces.list({
        limit: limit + 1,
        ...(after ? { after } : {}),
        ...(scope !== null ? { workspaceId: scope } : {}),
      });
      // Presets are visible to every key; they join the same newest-first order, so the cursor pages both.
      const items = [...stored, ...presets.list().filter((p) => !after || newerFirst(p, after) > 0)]
        .sort(newerFirst)
        .slice(0, limit + 1);
      const result = page(input, items, limit, (w) => `${w.createdAt}.${w.id}`);
      return {
        body: result.body.map((w) => presentWorkspace(w, presets.byId(w.id) !== undefined)),
        headers: result.headers,
      };
    },

    getWorkspace: async (input) => {
      const preset = presets.byId(input.params.workspace_id ?? "");
      return { body: preset ? presentWorkspace(preset, true) : presentWorkspace(await visibleWorkspace(input)) };
    },

    replaceWorkspace: async (input) => {
      const existing = await visibleWorkspace(input);
      const upload = await readUpload(input, false);
      try {
        if (upload.name !== undefined && upload.name !== existing.name) {
          throw new ProblemError(
            "validation_failed",
            `PUT replaces the contents of workspace ${existing.id} and keeps its name ${existing.name}; leave out the \`name\` part, or upload a new workspace with POST /workspaces to use another name.`,
            { errors: [{ location: "body", path: "/name", message: "cannot change on replace" }] },
          );
        }
        const id = existing.id;
        return await serial.run(id, async () => {
          const current = await store.workspaces.get(id);
          if (!current) throw notFound(id);
          const counts = await storeFiles(id, upload, input);
          const now = clock.now();
          const next: WorkspaceRecord = { ...current, updatedAt: now, ...counts };
          const updated = await store.workspaces.replaceContents(
            id,
            { updatedAt: now, ...counts },
            workspaceUpdatedEvent(next, now),
          );
          // Deletes of this id are serialized with this replace, so the row is still there.
          if (!updated) throw notFound(id);
          return { body: presentWorkspace(updated) };
        });
      } finally {
        await upload.cleanup();
      }
    },

    deleteWorkspace: async (input) => {
      const { id } = await visibleWorkspace(input);
      return serial.run(id, async () => {
        const outcome = await store.workspaces.delete(id);
        if (outcome === "not_found") throw notFound(id);
        if (outcome === "busy") {
          throw new ProblemError(
            "workspace_busy",
            `Jobs are running in workspace ${id}, so it cannot be deleted; wait for them to finish or clean them up (POST /jobs/{job_id}/cleanup), then retry.`,
          );
        }
        // The row is gone first, so no new job can start from files that are being removed.
        await files.remove(id);
        return { status: 204 };
      });
    },
  };
}

function checkName(name: string | undefined): string {
  if (name !== undefined && nameRegExp.test(name)) return name;
  const shown = name === undefined ? "missing" : JSON.stringify(name);
  throw new ProblemError(
    "validation_failed",
    `The workspace name is ${name === undefined ? "missing" : `${shown}, which is not allowed`}: use 1–64 letters, digits, ".", "_" or "-", starting with a letter or digit (e.g. my-project).`,
    { errors: [{ location: "body", path: "/name", message: `must match pattern "${NAME_PATTERN}"` }] },
  );
}

/** Parses a cursor this handler issued (see `CURSOR`); anything else is a 400 naming the parameter. */
export function decodeWorkspaceCursor(cursor: unknown): WorkspacePosition | undefined {
  if (typeof cursor !== "string" || cursor === "") return undefined;
  const match = CURSOR.exec(fromBase64url(cursor));
  const createdAt = Number(match?.[1]);
  if (!match?.[2] || !Number.isSafeInteger(createdAt)) {
    throw new ProblemError("validation_failed", "The cursor is not one this server issued; start again without it.", {
      errors: [{ location: "query", path: "cursor", message: "is not a valid cursor" }],
    });
  }
  return { createdAt, id: match[2] };
}

/** Newest first: `created_at`, then id, descending (the order of `WorkspaceRepo.list`); > 0 when `b` comes first. */
function newerFirst(a: WorkspacePosition, b: WorkspacePosition): number {
  return b.createdAt - a.createdAt || (b.id < a.id ? -1 : b.id > a.id ? 1 : 0);
}

/** A PUT or DELETE of a preset: the operator's files, not the API's. */
function readOnly(id: string, input: RequestInput): ProblemError {
  // A refused PUT leaves its multipart body unread; closing the connection keeps it from being read as a request.
  const headers: Record<string, string> = input.request.body.complete ? {} : { Connection: "close" };
  return new ProblemError(
    "workspace_read_only",
    `Workspace ${id} is pre-configured on the server (KNIFY_PRESET_WORKSPACES_DIR), so it is read-only through the API. Jobs can use it as it is; to change its files, upload a workspace of your own (POST /workspaces) under another name.`,
    {},
    headers,
  );
}

function presetNameTaken(preset: WorkspaceRecord): ProblemError {
  return new ProblemError(
    "workspace_exists",
    `The name ${preset.name} belongs to a pre-configured workspace (${preset.id}, path /workspaces/${preset.name}); choose another name.`,
  );
}

function notFound(id: string): ProblemError {
  return new ProblemError(
    "not_found",
    `No workspace ${id} is visible to this key. Check the id (GET /workspaces lists the ones you can see).`,
  );
}

function scopedExists(id: string): ProblemError {
  return new ProblemError(
    "workspace_exists",
    `Workspace ${id} exists already; replace its contents with PUT /workspaces/${id}.`,
  );
}

function nameTaken(existing: WorkspaceRecord | null, scope: string | null): ProblemError {
  // Only a key that may see the other workspace learns its id.
  const visible = existing !== null && (scope === null || scope === existing.id);
  const name = existing ? ` ${existing.name}` : "";
  return new ProblemError(
    "workspace_exists",
    visible && existing
      ? `A workspace named${name} exists (${existing.id}); replace its contents with PUT /workspaces/${existing.id}, or choose another name.`
      : `The workspace name${name} is taken; choose another name.`,
  );
}

/**
 * An `ArchiveError` becomes its problem (same code and message); a `validation_failed` one also gets an
 * `errors` entry. When the body was not read to its end, the connection is closed after the answer, because
 * the unread rest of the body would otherwise be parsed as the next request.
 */
function uploadProblem(error: unknown, input: RequestInput): unknown {
  if (!isArchiveError(error)) return error;
  const headers: Record<string, string> = input.request.body.complete ? {} : { Connection: "close" };
  const extras = error.code === "validation_failed" ? { errors: [fieldErrorOf(error)] } : {};
  return new ProblemError(error.code, error.message, extras, headers);
}

/** Which part a multipart refusal is about, from the part it names (the error carries no field for it). */
function fieldErrorOf(error: ArchiveError): FieldError {
  // The text before the first ":" names the part; what follows is a hint that names every part.
  const lead = error.message.split(":", 1)[0] ?? "";
  const about = (part: string) => error.entry === part || lead.includes(`\`${part}\``);
  const path = about("name") || lead.startsWith("name ") ? "/name" : about("workspace") ? "/workspace" : "";
  return { location: "body", path, message: error.message };
}

/** Runs tasks of the same key one after another (uploads, replaces and deletes of one workspace id). */
class KeyedSerializer {
  readonly #tails = new Map<string, Promise<unknown>>();

  async run<T>(key: string, task: () => Promise<T>): Promise<T> {
    const previous = this.#tails.get(key) ?? Promise.resolve();
    const result = previous.then(task, task);
    const tail = result.catch(() => undefined);
    this.#tails.set(key, tail);
    try {
      return await result;
    } finally {
      if (this.#tails.get(key) === tail) this.#tails.delete(key);
    }
  }
}
