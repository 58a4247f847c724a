import { describe, expect, it } from "vitest";
import { iso, isoOrNull } from "../../server/src/timestamps.js";

// Knify documents timestamps as ISO-8601 UTC with `Z` and whole seconds (`2024-12-04T08:13:20Z`).
describe("API timestamps", () => {
  it("drop the milliseconds, never round them", () => {
    expect(iso(Date.UTC(2024, 11, 4, 8, 13, 20, 999))).toBe("2024-12-04T08:13:20Z");
    expect(iso(Date.UTC(2024, 11, 4, 8, 13, 20, 0))).toBe("2024-12-04T08:13:20Z");
    expect(iso(0)).toBe("1970-01-01T00:00:00Z");
  });

  it("keep the expanded year form outside 0000–9999", () => {
    expect(iso(Date.UTC(10000, 0, 1, 0, 0, 0, 5))).toBe("+010000-01-01T00:00:00Z");
    expect(iso(-1)).toBe("1969-12-31T23:59:59Z");
  });

  it("leave null as null", () => {
    expect(isoOrNull(null)).toBeNull();
    expect(isoOrNull(1_000)).toBe("1970-01-01T00:00:01Z");
  });
});
