import type { Clock, Sleep } from "./options.js";

/** The real clock. */
export const systemClock: Clock = { now: () => Date.now() };

/** A `setTimeout` sleep that rejects with the signal's reason as soon as the signal aborts. */
export const timerSleep: Sleep = (ms, signal) =>
  new Promise<void>((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
