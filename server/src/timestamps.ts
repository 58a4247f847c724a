/** Epoch ms → ISO-8601 UTC with `Z`, as Knify documents timestamps. */
export const iso = (ms: number): string => new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");
export const isoOrNull = (ms: number | null): string | null => (ms === null ? null : iso(ms));
