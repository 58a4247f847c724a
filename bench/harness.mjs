// Shared measuring for the performance benches: every candidate runs against its baseline in the same
// process, in alternating rounds (A B A B …), so a machine that slows down mid-run slows both sides alike.
// A figure is the median of the rounds' ratios, with min–max.

import { execFileSync } from "node:child_process";
import { pathToFileURL } from "node:url";

/**
 * Operations per second of a synchronous `fn`, over `ms` milliseconds (after the caller's warm-up).
 * @param {() => unknown} fn
 * @param {number} ms
 */
export function opsPerSecond(fn, ms) {
  let count = 0;
  let sink;
  const start = performance.now();
  let elapsed = 0;
  // Checking the clock every 256 calls keeps its cost out of the figure.
  while (elapsed < ms) {
    for (let i = 0; i < 256; i++) sink = fn();
    count += 256;
    elapsed = performance.now() - start;
  }
  if (sink === Symbol.for("never")) console.log(sink);
  return (count * 1000) / elapsed;
}

/** The median of numbers. */
export function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/**
 * Runs `rounds` alternating rounds of `baseline` and `candidate` (each returns a rate, higher is better)
 * and summarises both rates and the per-round ratio candidate / baseline.
 * @param {{ rounds: number, baseline: () => Promise<number> | number, candidate: () => Promise<number> | number }} plan
 */
export async function alternate({ rounds, baseline, candidate }) {
  const base = [];
  const cand = [];
  const ratios = [];
  for (let round = 0; round < rounds; round++) {
    // Swap the order every round, so neither side always runs on a warmer (or hotter) machine.
    let b;
    let c;
    if (round % 2 === 0) {
      b = await baseline();
      c = await candidate();
    } else {
      c = await candidate();
      b = await baseline();
    }
    base.push(b);
    cand.push(c);
    ratios.push(c / b);
  }
  return {
    baseline: median(base),
    candidate: median(cand),
    ratio: median(ratios),
    min: Math.min(...ratios),
    max: Math.max(...ratios),
  };
}

/** Formats a rate: 221k, 3.3k, 950. */
export function rate(value) {
  if (value >= 10_000) return `${Math.round(value / 1000)}k`;
  if (value >= 1000) return `${(value / 1000).toFixed(1)}k`;
  return String(Math.round(value));
}

/** Prints rows `{ name, unit, result, target }` as a table. */
export function printTable(title, rows) {
  console.log(`${title}\n`);
  const header = ["path", "ours", "baseline", "ratio (min–max)", "target"];
  const lines = rows.map(({ name, unit, result, target }) => [
    name,
    `${rate(result.candidate)} ${unit}`,
    `${rate(result.baseline)} ${unit}`,
    `${result.ratio.toFixed(2)}× (${result.min.toFixed(2)}–${result.max.toFixed(2)})`,
    target === undefined ? "-" : `≥ ${target}×${result.ratio >= target ? "" : "  MISSED"}`,
  ]);
  printColumns(header, lines);
}

/** Prints a table: the first column left-aligned, the numbers right-aligned. */
export function printColumns(header, lines) {
  const widths = header.map((title, column) => Math.max(title.length, ...lines.map((line) => line[column].length)));
  const format = (cells) =>
    cells
      .map((cell, column) => (column === 0 ? cell.padEnd(widths[column]) : cell.padStart(widths[column])))
      .join("  ");
  console.log(format(header));
  console.log(widths.map((width) => "-".repeat(width)).join("  "));
  for (const line of lines) console.log(format(line));
}

/** Runs `main()` when the bench file is run directly (not imported by bench/run.mjs). */
export function runIfMain(moduleURL, main) {
  if (process.argv[1] === undefined || moduleURL !== pathToFileURL(process.argv[1]).href) return;
  main().catch((error) => {
    console.error(error instanceof Error ? error.stack : error);
    console.error("Is the SDK built? Run `npm run build` first: the benches measure sdk/dist.");
    process.exitCode = 1;
  });
}

/** Whether `taskset` can pin a process to a core here (util-linux; absent on macOS). */
export function hasTaskset() {
  try {
    execFileSync("taskset", ["-c", "0", "true"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}
