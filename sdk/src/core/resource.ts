import type { CoreClient } from "./core-client.js";

/** A group of operations (`client.jobs`, `client.keys`, …): one method per operation, over the shared core. */
export abstract class APIResource {
  protected readonly core: CoreClient;

  constructor(core: CoreClient) {
    this.core = core;
  }
}
