/** Placeholder: the jobs feature defines its repository here. */
// biome-ignore lint/suspicious/noEmptyInterface: filled in by the jobs feature
export interface JobRepo {}
