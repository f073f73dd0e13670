/**
 * The page's own script: draws the trend charts with uPlot from the report's embedded data.
 * It runs in the browser, not in Node: render.ts embeds this function's source text
 * (`reportClient.toString()`) and calls it with `document` and the `uPlot` global, so it must
 * not use anything from this module's scope, and it writes text with textContent only.
 */
/* eslint-disable @typescript-eslint/no-explicit-any */
export function reportClient(doc: any, uPlotCtor: any): void {
  const data = JSON.parse(doc.getElementById('report-data').textContent);
  const colour = (i: number) => `hsl(${Math.round((i * 137.508) % 360)} 70% 40%)`;
  for (const chart of data.charts as { id: string; unit: string; x: number[]; series: { label: string; values: (number | null)[] }[] }[]) {
    const el = doc.getElementById(`chart-${chart.id}`);
    if (!el) continue;
    const has = chart.series.some((s) => s.values.some((v) => v !== null));
    if (!has) {
      el.textContent = 'no data in these runs';
      el.setAttribute('data-drawn', 'empty');
      continue;
    }
    const opts = {
      width: Math.max(320, el.clientWidth || 900),
      height: 260,
      scales: { x: { time: true } },
      series: [{}, ...chart.series.map((s, i) => ({ label: s.label, stroke: colour(i), width: 1.5, spanGaps: true, points: { show: true, size: 4 } }))],
      axes: [{}, { label: chart.unit, size: 60 }],
    };
    new uPlotCtor(opts, [chart.x, ...chart.series.map((s) => s.values)], el);
    el.setAttribute('data-drawn', String(chart.series.length));
  }
}
