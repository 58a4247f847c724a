/** Placeholder: the workspaces feature defines its repository here. */
// biome-ignore lint/suspicious/noEmptyInterface: filled in by the workspaces feature
export interface WorkspaceRepo {}
