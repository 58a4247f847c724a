/** The id prefix of pre-configured workspaces (`KNIFY_PRESET_WORKSPACES_DIR`): `ws_preset_<name>`. */
export const PRESET_ID_PREFIX = "ws_preset_";
