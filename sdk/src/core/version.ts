/** The SDK's version, sent in `User-Agent`. Keep in step with sdk/package.json. */
export const VERSION = "0.1.0";
