import { useEffect, useRef } from "preact/hooks";
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";

/** One key's requests per day, aligned on the chart's days. */
export interface UsageSeries {
  id: string;
  label: string;
  values: number[];
}

/** Distinct colours with at least 4.5:1 contrast on white, one per stacked key (then again from the start). */
const COLOURS = ["#0b57d0", "#b3261e", "#146c2e", "#8a4baf", "#a64d00", "#00727d", "#c2185b", "#5f6368"];

/** A UTC day (YYYY-MM-DD) as uPlot's x value: Unix seconds of its midnight. */
const toSeconds = (day: string) => Date.parse(`${day}T00:00:00Z`) / 1000;

/**
 * Requests per UTC day as bars (uPlot, on a canvas), one series or several stacked, and the same numbers as a
 * table (screen readers cannot read a canvas; the table and the total are drawn from the data uPlot was given).
 * uPlot sets its sizes through the CSSOM (`element.style.x = …`), which the dashboard's CSP allows without
 * 'unsafe-inline'; its stylesheet is bundled into the dashboard's own.
 */
export function UsageChart({
  id,
  caption,
  days,
  series,
}: {
  id: string;
  caption: string;
  days: string[];
  series: UsageSeries[];
}) {
  const box = useRef<HTMLDivElement>(null);
  const totals = days.map((_, day) => series.reduce((sum, one) => sum + (one.values[day] ?? 0), 0));
  const total = totals.reduce((sum, n) => sum + n, 0);

  useEffect(() => {
    const target = box.current;
    if (!target) return;
    // Stacked: series k is drawn at the sum of keys 0..k, the tallest first, so each key's bar shows above the
    // ones below it; the legend still gives each key's own count.
    const layers = series
      .map((_, k) =>
        days.map((__, day) => series.slice(0, k + 1).reduce((sum, one) => sum + (one.values[day] ?? 0), 0)),
      )
      .reverse();
    const drawn = [...series].reverse();
    const bars = uPlot.paths.bars?.({ size: [0.7, 40] });
    const chart = new uPlot(
      {
        width: Math.max(280, target.clientWidth),
        height: 260,
        tzDate: (seconds) => uPlot.tzDate(new Date(seconds * 1000), "Etc/UTC"),
        // Half a day on each side, so the first and last days' bars are drawn whole.
        scales: {
          x: { time: true, range: (_u, min, max) => [min - 43_200, max + 43_200] },
          y: { range: (_u, _min, max) => [0, Math.max(4, Math.ceil(max * 1.1))] },
        },
        axes: [{}, { label: "requests", size: 60 }],
        cursor: { drag: { x: false, y: false } },
        series: [
          { label: "Day (UTC)", value: (_u, seconds) => (seconds == null ? `${days.length} days` : dayOf(seconds)) },
          ...drawn.map((one, i) => {
            const colour = COLOURS[(drawn.length - 1 - i) % COLOURS.length] ?? "#0b57d0";
            return {
              label: one.label,
              stroke: colour,
              fill: colour,
              width: 0,
              ...(bars ? { paths: bars } : {}),
              points: { show: false },
              value: (_u: uPlot, _v: number | null, _s: number, day: number | null) =>
                day == null ? `${sum(one.values)} in all` : String(one.values[day] ?? 0),
            };
          }),
        ],
      },
      [days.map(toSeconds), ...layers],
      target,
    );
    const resize = new ResizeObserver(() => chart.setSize({ width: Math.max(280, target.clientWidth), height: 260 }));
    resize.observe(target);
    return () => {
      resize.disconnect();
      chart.destroy();
    };
  }, [days, series]);

  return (
    <figure class="usage-chart" aria-labelledby={`${id}-caption`}>
      <figcaption id={`${id}-caption`}>
        {caption}: <strong data-testid={`${id}-total`}>{total}</strong> requests in the last {days.length} days
      </figcaption>
      <div ref={box} class="usage-canvas" data-testid={`${id}-chart`} aria-hidden="true" />
      <details>
        <summary>The numbers, per day</summary>
        <div class="table-wrap">
          <table data-testid={`${id}-table`}>
            <caption class="visually-hidden">{caption}, requests per UTC day</caption>
            <thead>
              <tr>
                <th scope="col">Day (UTC)</th>
                {series.length > 1 && series.map((one) => <th scope="col">{one.label}</th>)}
                <th scope="col">Requests</th>
              </tr>
            </thead>
            <tbody>
              {days.map((day, i) => (
                <tr key={day} data-day={day}>
                  <th scope="row">{day}</th>
                  {series.length > 1 && series.map((one) => <td data-key-id={one.id}>{one.values[i] ?? 0}</td>)}
                  <td data-field="total">{totals[i]}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </details>
    </figure>
  );
}

function sum(values: number[]): number {
  return values.reduce((total, n) => total + n, 0);
}

function dayOf(seconds: number): string {
  return new Date(seconds * 1000).toISOString().slice(0, 10);
}
