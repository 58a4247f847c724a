import type { APIPromise } from "../core/api-promise.js";
import type { RequestOptions } from "../core/options.js";
import type { PagePromise } from "../core/pagination.js";
import { APIResource } from "../core/resource.js";
import { type WorkspaceSource, workspaceArchive } from "../core/workspace-archive.js";
import type { components, operations } from "../generated/schema.js";

type Schemas = components["schemas"];
/** A workspace: a directory tree that jobs see at its `path`. */
export type Workspace = Schemas["Workspace"];
/** Query parameters of `workspaces.list`. */
export type ListWorkspacesParams = NonNullable<operations["listWorkspaces"]["parameters"]["query"]>;
/** What `workspaces.upload` takes: a name plus a directory `path` or a `.tar.gz` as `data`. */
export type UploadWorkspaceParams = { name: string } & WorkspaceSource;

/** Workspaces: upload, list, read, replace and delete the directory trees that agents see. */
export class Workspaces extends APIResource {
  /**
   * Uploads a workspace as multipart `workspace` (a `.tar.gz`) plus `name`. Given a directory `path` (Node),
   * the SDK archives it itself. `POST /workspaces`
   *
   * @example
   * const ws = await client.workspaces.upload({ name: "my-project", path: "./my-project" });
   * await client.jobs.create({ job_type: "cursor_task", prompt: "Add tests", workspace_path: ws.path });
   */
  upload(params: UploadWorkspaceParams, options?: RequestOptions): APIPromise<Workspace> {
    return this.core.call(options, async (fetch) => {
      const form = new FormData();
      form.append("name", params.name);
      form.append("workspace", await workspaceArchive(params), "workspace.tar.gz");
      return this.core.api.POST("/workspaces", { body: multipart<Schemas["CreateWorkspaceRequest"]>(form), fetch });
    });
  }

  /** The workspaces the key can see, newest first. `GET /workspaces` */
  list(params: ListWorkspacesParams = {}, options?: RequestOptions): PagePromise<Workspace> {
    return this.core.list(options, (fetch) => this.core.api.GET("/workspaces", { params: { query: params }, fetch }));
  }

  /**
   * One workspace with its file count and size; without an id, the client's default workspace
   * (`KNIFY_WORKSPACE_ID`). `GET /workspaces/{workspace_id}`
   */
  get(workspaceId?: string, options?: RequestOptions): APIPromise<Workspace> {
    return this.core.call(options, (fetch) =>
      this.core.api.GET("/workspaces/{workspace_id}", {
        params: { path: { workspace_id: this.core.workspace(workspaceId) } },
        fetch,
      }),
    );
  }

  /**
   * Replaces every file, atomically, with a new directory or archive; `replace(source)` acts on the client's
   * default workspace (`KNIFY_WORKSPACE_ID`). `PUT /workspaces/{workspace_id}`
   */
  replace(source: WorkspaceSource, options?: RequestOptions): APIPromise<Workspace>;
  replace(workspaceId: string | undefined, source: WorkspaceSource, options?: RequestOptions): APIPromise<Workspace>;
  replace(
    first: WorkspaceSource | string | undefined,
    second?: WorkspaceSource | RequestOptions,
    third?: RequestOptions,
  ): APIPromise<Workspace> {
    const named = typeof first !== "object";
    const workspaceId = named ? first : undefined;
    const source = (named ? second : first) as WorkspaceSource;
    const options = named ? third : (second as RequestOptions | undefined);
    return this.core.call(options, async (fetch) => {
      const workspace_id = this.core.workspace(workspaceId);
      const form = new FormData();
      form.append("workspace", await workspaceArchive(source), "workspace.tar.gz");
      return this.core.api.PUT("/workspaces/{workspace_id}", {
        params: { path: { workspace_id } },
        body: multipart<Schemas["ReplaceWorkspaceRequest"]>(form),
        fetch,
      });
    });
  }

  /**
   * Deletes the workspace's files (409 while jobs run in it); without an id, the client's default workspace.
   * `DELETE /workspaces/{workspace_id}`
   */
  delete(workspaceId?: string, options?: RequestOptions): APIPromise<void> {
    return this.core.call(options, (fetch) =>
      this.core.api.DELETE("/workspaces/{workspace_id}", {
        params: { path: { workspace_id: this.core.workspace(workspaceId) } },
        fetch,
      }),
    );
  }
}

/**
 * openapi-typescript renders a binary multipart part (`contentMediaType: application/gzip`) as `string`,
 * while the real body is `FormData` (which openapi-fetch sends as is, with its boundary). This is the one
 * place that bridges the two.
 */
function multipart<Body>(form: FormData): Body {
  return form as unknown as Body;
}
