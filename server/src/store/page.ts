/** Newest first, strictly after `cursor` (an id) when given. */
export interface PageQuery {
  limit: number;
  before?: string;
}
