import type { APIPromise } from "../core/api-promise.js";
import type { RequestOptions } from "../core/options.js";
import type { PagePromise } from "../core/pagination.js";
import { APIResource } from "../core/resource.js";
import type { components, operations } from "../generated/schema.js";
// Requests typed with the open public enums go out as the closed wire types (see resources/jobs.ts).
import type { components as WireComponents } from "../generated/wire.js";

type Schemas = components["schemas"];
type Wire = WireComponents["schemas"];
/** Query parameters of `webhookEndpoints.list`. */
export type ListWebhookEndpointsParams = NonNullable<operations["listWebhookEndpoints"]["parameters"]["query"]>;
/** Query parameters of `webhookEndpoints.deliveries`. */
export type ListWebhookDeliveriesParams = NonNullable<operations["listWebhookDeliveries"]["parameters"]["query"]>;

/** Webhook endpoints of a workspace and their deliveries. To check a delivery you received, see `client.webhooks`. */
export class WebhookEndpoints extends APIResource {
  /**
   * Registers a URL for the workspace's events; the signing `secret` is in this response only. Without
   * `workspace_id` it takes the client's default workspace (`KNIFY_WORKSPACE_ID`), if any. `POST /webhook-endpoints`
   */
  create(
    body: Schemas["CreateWebhookEndpointRequest"],
    options?: RequestOptions,
  ): APIPromise<Schemas["CreatedWebhookEndpoint"]> {
    return this.core.call(options, (fetch) =>
      this.core.api.POST("/webhook-endpoints", {
        body: this.core.withWorkspace(body) as Wire["CreateWebhookEndpointRequest"],
        fetch,
      }),
    );
  }

  /** The endpoints the key can see, newest first. `GET /webhook-endpoints` */
  list(params: ListWebhookEndpointsParams = {}, options?: RequestOptions): PagePromise<Schemas["WebhookEndpoint"]> {
    return this.core.list(options, (fetch) =>
      this.core.api.GET("/webhook-endpoints", { params: { query: params }, fetch }),
    );
  }

  /** One endpoint, without its secret. `GET /webhook-endpoints/{endpoint_id}` */
  get(endpointId: string, options?: RequestOptions): APIPromise<Schemas["WebhookEndpoint"]> {
    return this.core.call(options, (fetch) =>
      this.core.api.GET("/webhook-endpoints/{endpoint_id}", { params: { path: { endpoint_id: endpointId } }, fetch }),
    );
  }

  /**
   * Changes the endpoint's URL, event types, description or `enabled`; `enabled: true` also re-enables an
   * endpoint the server disabled after a 410. `PATCH /webhook-endpoints/{endpoint_id}`
   *
   * @example
   * await client.webhookEndpoints.update(endpointId, { enabled: true });
   */
  update(
    endpointId: string,
    body: Schemas["UpdateWebhookEndpointRequest"],
    options?: RequestOptions,
  ): APIPromise<Schemas["WebhookEndpoint"]> {
    return this.core.call(options, (fetch) =>
      this.core.api.PATCH("/webhook-endpoints/{endpoint_id}", {
        params: { path: { endpoint_id: endpointId } },
        body: body as Wire["UpdateWebhookEndpointRequest"],
        fetch,
      }),
    );
  }

  /** Deletes the endpoint and drops its pending deliveries. `DELETE /webhook-endpoints/{endpoint_id}` */
  delete(endpointId: string, options?: RequestOptions): APIPromise<void> {
    return this.core.call(options, (fetch) =>
      this.core.api.DELETE("/webhook-endpoints/{endpoint_id}", {
        params: { path: { endpoint_id: endpointId } },
        fetch,
      }),
    );
  }

  /** Queues a `webhook.test` event and returns its delivery. `POST /webhook-endpoints/{endpoint_id}/test` */
  test(endpointId: string, options?: RequestOptions): APIPromise<Schemas["WebhookDelivery"]> {
    return this.core.call(options, (fetch) =>
      this.core.api.POST("/webhook-endpoints/{endpoint_id}/test", {
        params: { path: { endpoint_id: endpointId } },
        fetch,
      }),
    );
  }

  /** The endpoint's deliveries with their attempts, newest first. `GET /webhook-endpoints/{endpoint_id}/deliveries` */
  deliveries(
    endpointId: string,
    params: ListWebhookDeliveriesParams = {},
    options?: RequestOptions,
  ): PagePromise<Schemas["WebhookDelivery"]> {
    return this.core.list(options, (fetch) =>
      this.core.api.GET("/webhook-endpoints/{endpoint_id}/deliveries", {
        params: { path: { endpoint_id: endpointId }, query: params },
        fetch,
      }),
    );
  }

  /** Sends the same event (same `webhook-id`) again now. `POST /webhook-endpoints/{endpoint_id}/deliveries/{delivery_id}/redeliver` */
  redeliver(endpointId: string, deliveryId: string, options?: RequestOptions): APIPromise<Schemas["WebhookDelivery"]> {
    return this.core.call(options, (fetch) =>
      this.core.api.POST("/webhook-endpoints/{endpoint_id}/deliveries/{delivery_id}/redeliver", {
        params: { path: { endpoint_id: endpointId, delivery_id: deliveryId } },
        fetch,
      }),
    );
  }
}
