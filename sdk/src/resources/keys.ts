import type { APIPromise } from "../core/api-promise.js";
import type { RequestOptions } from "../core/options.js";
import type { PagePromise } from "../core/pagination.js";
import { APIResource } from "../core/resource.js";
import type { components, operations } from "../generated/schema.js";

type Schemas = components["schemas"];
/** Query parameters of `keys.list`. */
export type ListKeysParams = NonNullable<operations["listKeys"]["parameters"]["query"]>;
/** Query parameters of `keys.usage`. */
export type KeyUsageParams = NonNullable<operations["getKeyUsage"]["parameters"]["query"]>;

/** API keys: create, inspect, rotate and revoke them (most operations need `admin:all`). */
export class Keys extends APIResource {
  /**
   * Creates a key; its secret `api_key` is in this response only. Without `workspace_id` it takes the
   * client's default workspace (`KNIFY_WORKSPACE_ID`), if any. `POST /keys`
   */
  create(body: Schemas["CreateKeyRequest"], options?: RequestOptions): APIPromise<Schemas["CreatedKey"]> {
    return this.core.call(options, (fetch) =>
      this.core.api.POST("/keys", { body: this.core.withWorkspace(body), fetch }),
    );
  }

  /** Every key, newest first, without secrets; iterate it with `for await` for all pages. `GET /keys` */
  list(params: ListKeysParams = {}, options?: RequestOptions): PagePromise<Schemas["ApiKey"]> {
    return this.core.list(options, (fetch) => this.core.api.GET("/keys", { params: { query: params }, fetch }));
  }

  /** A key and its permissions, without the secret. `GET /keys/{key_id}` */
  get(keyId: string, options?: RequestOptions): APIPromise<Schemas["ApiKey"]> {
    return this.core.call(options, (fetch) =>
      this.core.api.GET("/keys/{key_id}", { params: { path: { key_id: keyId } }, fetch }),
    );
  }

  /**
   * Changes a key's name, permissions, rate limit or expiry in place; the next request with it obeys them.
   * `PATCH /keys/{key_id}`
   *
   * @example
   * await client.keys.update(keyId, { permissions: ["jobs:read"], rate_limit: 60 });
   */
  update(keyId: string, body: Schemas["UpdateKeyRequest"], options?: RequestOptions): APIPromise<Schemas["ApiKey"]> {
    return this.core.call(options, (fetch) =>
      this.core.api.PATCH("/keys/{key_id}", { params: { path: { key_id: keyId } }, body, fetch }),
    );
  }

  /** Revokes the key and every secret it has. `DELETE /keys/{key_id}` */
  revoke(keyId: string, options?: RequestOptions): APIPromise<Schemas["ApiKey"]> {
    return this.core.call(options, (fetch) =>
      this.core.api.DELETE("/keys/{key_id}", { params: { path: { key_id: keyId } }, fetch }),
    );
  }

  /** Checks the calling key and returns its own record. `GET /keys/verify` */
  verify(options?: RequestOptions): APIPromise<Schemas["KeyVerification"]> {
    return this.core.call(options, (fetch) => this.core.api.GET("/keys/verify", { fetch }));
  }

  /**
   * Request counts for the current UTC day and month; with `{ days }`, also `daily`, the requests per UTC
   * day ending today. `GET /keys/{key_id}/usage`
   *
   * @example
   * const { daily } = await client.keys.usage(keyId, { days: 30 });
   */
  usage(keyId: string, params: KeyUsageParams = {}, options?: RequestOptions): APIPromise<Schemas["KeyUsage"]> {
    return this.core.call(options, (fetch) =>
      this.core.api.GET("/keys/{key_id}/usage", { params: { path: { key_id: keyId }, query: params }, fetch }),
    );
  }

  /** Issues a new secret; the previous one keeps working for `grace_period_seconds`. `POST /keys/{key_id}/rotate` */
  rotate(
    keyId: string,
    body?: Schemas["RotateKeyRequest"],
    options?: RequestOptions,
  ): APIPromise<Schemas["RotatedKey"]> {
    return this.core.call(options, (fetch) =>
      this.core.api.POST("/keys/{key_id}/rotate", {
        params: { path: { key_id: keyId } },
        ...(body === undefined ? {} : { body }),
        fetch,
      }),
    );
  }
}
