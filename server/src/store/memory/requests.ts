import { gcraStep, utcDay } from "../gcra.js";
import type { Admission, DayCount, RequestRepo, Usage } from "../requests-repo.js";
import type { MemoryTables } from "./tables.js";

/** Per-key GCRA rate limiting and UTC day/month usage counters, in memory. */
export class MemoryRequestRepo implements RequestRepo {
  constructor(private readonly t: MemoryTables) {}

  async admit(keyId: string, limitPerMinute: number, now: number): Promise<Admission> {
    const step = gcraStep(this.t.rateLimits.get(keyId) ?? null, limitPerMinute, now);
    if (step.tat === null) return step.admission;
    this.t.rateLimits.set(keyId, step.tat);
    const day = `${keyId} ${utcDay(now)}`;
    this.t.usageDaily.set(day, (this.t.usageDaily.get(day) ?? 0) + 1);
    const key = this.t.keys.get(keyId);
    if (key) key.lastUsed = Math.max(key.lastUsed ?? 0, now);
    return step.admission;
  }

  async usage(keyId: string, now: number): Promise<Usage> {
    const day = utcDay(now);
    const monthPrefix = `${keyId} ${day.slice(0, 7)}-`;
    let requestsThisMonth = 0;
    for (const [at, count] of this.t.usageDaily) if (at.startsWith(monthPrefix)) requestsThisMonth += count;
    return {
      requestsToday: this.t.usageDaily.get(`${keyId} ${day}`) ?? 0,
      requestsThisMonth,
      lastUsed: this.t.keys.get(keyId)?.lastUsed ?? null,
    };
  }

  async daily(keyId: string, fromDay: string, toDay: string): Promise<DayCount[]> {
    const days: DayCount[] = [];
    for (const [at, count] of this.t.usageDaily) {
      const [id, day] = at.split(" ") as [string, string];
      if (id === keyId && day >= fromDay && day <= toDay) days.push({ day, count });
    }
    return days.sort((a, b) => (a.day < b.day ? -1 : 1));
  }
}
