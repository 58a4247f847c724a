/** Epoch ms → ISO-8601 UTC with `Z`, as Knify documents timestamps. */
export const iso = (ms: number): string => {
  // toISOString() always ends in `.sssZ`: cut it instead of running a regex over it (a job carries four
  // timestamps, issue 11).
  const text = new Date(ms).toISOString();
  return `${text.slice(0, -5)}Z`;
};
export const isoOrNull = (ms: number | null): string | null => (ms === null ? null : iso(ms));
