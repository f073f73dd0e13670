/**
 * The report's data assembly (grid, changes since the previous run, device health, flaky checks,
 * trends) from constructed history rows, and the page: self-contained, every text escaped.
 */
import { describe, expect, it } from '@jest/globals';
import { assembleReport, type HistoryCheckRow, type ReportInput } from './assemble.js';
import { renderReport, scriptJson, fileHref } from './render.js';
import { loadChartAssets } from './assets.js';

const runs = [1, 2, 3].map((n) => ({ id: `r${n}`, startedAt: `2026-11-2${n}T02:00:00.000Z`, hilVersion: n === 3 ? '0.2.0' : '0.1.0' }));
const row = (runId: string, device: string, check: string, status: HistoryCheckRow['status'], extra: Partial<HistoryCheckRow> = {}): HistoryCheckRow =>
  ({ runId, device, scenario: 'model-load', check, status, attempt: 1, durationMs: 100, imageSha: 'aa'.repeat(32), firmware: 'micropython 1.27.0', ...extra });
const EVIL = '<img src=x onerror="alert(1)">&</script>';
const input: ReportInput = {
  generatedAt: '2026-11-23T03:00:00.000Z', hilVersion: '0.2.0', source: '/var/lib/hil/history.sqlite', gridRuns: 2,
  runs,
  checks: [
    // cam1: listing passes, fails, passes (flaky with the same inputs); imports fails then is fixed in r3.
    row('r1', 'cam1', 'listing', 'passed'), row('r2', 'cam1', 'listing', 'failed', { reason: 'x.py: size differs', failureClass: 'product', transcript: '/data/out/r2/cam1/transcript.txt' }), row('r3', 'cam1', 'listing', 'passed'),
    row('r2', 'cam1', 'imports', 'failed', { reason: 'ImportError', failureClass: 'product' }), row('r3', 'cam1', 'imports', 'passed', { imageSha: 'bb'.repeat(32) }),
    // cam2: a new failure in r3 whose first attempt was a link error; an infra error is not flaky.
    row('r2', 'cam2', 'listing', 'passed'), row('r3', 'cam2', 'listing', 'error', { reason: 'link dropped', failureClass: 'link' }),
    row('r3', 'cam2', 'listing', 'failed', { attempt: 2, reason: EVIL, failureClass: 'product', transcript: '/data/out/r3/cam 2/transcript.txt' }),
    // cam2 imports: still failing; attempt 1 stopped before it.
    row('r2', 'cam2', 'imports', 'failed', { reason: 'ImportError' }), row('r3', 'cam2', 'imports', 'failed', { attempt: 2, reason: 'ImportError' }),
    row('r3', 'cam2', 'models.inference', 'passed', { attempt: 2, latencies: [{ model: 'model.tflite', ms: 42 }] }),
  ],
  attempts: [{ runId: 'r3', device: 'cam2', scenario: 'model-load', attempt: 1, reason: 'link dropped', failureClass: 'link', transcript: '/data/out/r3/cam2-attempt1.txt' }],
  flashes: [{ runId: 'r2', device: 'cam1', bytes: 1024 * 100, durationMs: 2000, written: true }, { runId: 'r3', device: 'cam1', bytes: 1024 * 100, durationMs: 1000, written: false }],
  devices: [{ name: 'cam2', state: 'bad', since: '2026-11-23T02:10:00.000Z', reason: '3 infra errors in a row' }, { name: 'cam1', state: 'ok' }, { name: EVIL, state: 'suspect' }, { name: 'cam9', state: 'bad', since: '2026-11-01T00:00:00.000Z' }],
  // The history's answers (harness/history/queries.ts), as the query module maps them.
  regressions: {
    newFailures: [{ device: 'cam2', scenario: 'model-load', check: 'listing', before: 'passed', after: 'failed', reason: EVIL, failureClass: 'product', transcript: '/data/out/r3/cam 2/transcript.txt', changed: [] }],
    fixed: [{ device: 'cam1', scenario: 'model-load', check: 'imports', before: 'failed', after: 'passed', changed: ['image aaaaaaaaaaaa -> bbbbbbbbbbbb', 'hil 0.1.0 -> 0.2.0'] }],
    stillFailing: [{ device: 'cam2', scenario: 'model-load', check: 'imports', before: 'failed', after: 'failed', reason: 'ImportError', changed: [], failingSince: { startedAt: '2026-11-22T02:00:00.000Z', runs: 2 } }],
  },
  flaky: [{ device: 'cam1', scenario: 'model-load', check: 'listing', imageSha: 'aa'.repeat(32), firmware: 'micropython 1.27.0', passed: 2, failed: 1, evidence: [{ runId: 'r2', startedAt: '2026-11-22T02:00:00.000Z', attempt: 1, status: 'failed', reason: 'x.py: size differs', transcript: '/data/out/r2/cam1/transcript.txt' }], deviceInfraRising: true }],
  infra: [{ device: 'cam2', rising: true, reasons: ['model-load listing: link dropped'] }],
};
const data = assembleReport(input);

describe('report data', () => {
  it('shows the last N runs, oldest first, with one row per device/scenario/check', () => {
    expect(data.runs.map((r) => r.id)).toEqual(['r2', 'r3']);
    expect(data.rows.map((r) => `${r.device}/${r.check}`)).toEqual(['cam1/imports', 'cam1/listing', 'cam2/imports', 'cam2/listing', 'cam2/models.inference']);
    const cam2 = data.rows.find((r) => r.device === 'cam2' && r.check === 'listing')!;
    expect(cam2.cells.map((c) => c?.status)).toEqual(['passed', 'failed']);
    expect(cam2.cells[1]).toMatchObject({ attempts: 2, earlier: [{ attempt: 1, status: 'error', failureClass: 'link', transcript: '/data/out/r3/cam2-attempt1.txt' }] });
    const imports = data.rows.find((r) => r.device === 'cam2' && r.check === 'imports')!;
    expect(imports.cells[1]!.earlier).toEqual([expect.objectContaining({ attempt: 1, status: 'error', reason: 'attempt 1 stopped before this check: link dropped' })]);
    expect(data.rows.find((r) => r.check === 'models.inference')!.cells[0]).toBeNull();
  });

  it('takes the history\'s regressions as given, and lists the devices gone bad since the previous run', () => {
    const c = data.changes;
    expect([c.current?.id, c.previous?.id]).toEqual(['r3', 'r2']);
    expect(c.newFailures).toBe(input.regressions!.newFailures);
    expect(c.stillFailing[0]!.failingSince).toEqual({ startedAt: '2026-11-22T02:00:00.000Z', runs: 2 });
    // cam9 went bad before the previous run: not news.
    expect(c.devicesGoneBad).toEqual([{ device: 'cam2', since: '2026-11-23T02:10:00.000Z', reason: '3 infra errors in a row' }]);
  });

  it('counts link/board-error attempts per device, with the history\'s trend', () => {
    // cam2: r2 one attempt, r3 two attempts (the first ended in a link error).
    expect(data.devices.map((d) => [d.name, d.state, d.infraErrors, d.attempts, d.infraRising ?? null])).toEqual([[EVIL, 'suspect', 0, 0, null], ['cam1', 'ok', 0, 2, null], ['cam2', 'bad', 1, 3, true], ['cam9', 'bad', 0, 0, null]]);
  });

  it('makes aligned trend series: flash throughput only when written, durations and first-inference latency', () => {
    const [flash, dur, inf] = data.charts;
    expect(flash!.x).toEqual(runs.map((r) => Date.parse(r.startedAt) / 1000));
    expect(flash!.series).toEqual([{ label: 'cam1', values: [null, 50, null] }]);
    expect(dur!.series.find((s) => s.label === 'model-load/listing')!.values).toEqual([100, 100, 100]);
    expect(inf!.series).toEqual([{ label: 'model.tflite', values: [null, null, 42] }]);
  });
});

describe('report page', () => {
  const assets = loadChartAssets();
  const html = renderReport(data, assets, { dir: '/data/report' });

  it('is self-contained: uPlot code, CSS and license inline, nothing loaded from elsewhere', () => {
    expect(html).toContain(assets.js.slice(0, 200));
    expect(html).toContain('Permission is hereby granted, free of charge');
    expect(html).toContain('Copyright (c) 2022 Leon Sorokin');
    expect(html).not.toMatch(/<(script|link|img)[^>]+(src|href)=/i);
    expect(html).not.toMatch(/(src|href)="(https?:|\/\/)/);
  });

  it('escapes every text from the history: no markup from a name or reason reaches the page', () => {
    expect(html).not.toContain('<img src=x');
    expect(html).toContain('&lt;img src=x onerror=&quot;alert(1)&quot;&gt;&amp;&lt;/script&gt;');
    // Exactly the page's own three script elements (uPlot, data, client) and their ends.
    expect(html.match(/<script/g)).toHaveLength(3);
    expect(html.match(/<\/script>/g)).toHaveLength(3);
    expect(scriptJson({ a: '</script><b>&' })).toBe('{"a":"\\u003c/script\\u003e\\u003cb\\u003e\\u0026"}');
  });

  it('links each cell to its transcript, relative to the report folder and URL-encoded, with the reason in its title', () => {
    expect(fileHref('/data/out/r3/cam 2/transcript.txt', '/data/report')).toBe('../out/r3/cam%202/transcript.txt');
    const cell = html.match(/<td class="cell s-failed retried" data-run="r3" data-status="failed" data-class="product"><a href="([^"]+)" title="([^"]+)">/);
    expect(cell?.[1]).toBe('../out/r3/cam%202/transcript.txt');
    expect(cell?.[2]).toContain('attempt 1: ERR (link): link dropped [/data/out/r3/cam2-attempt1.txt]');
  });

  it('shows the changes, how long a check has been failing, and flaky checks on a device going bad as such', () => {
    expect(html).toMatch(/<div class="change" id="new-failures"><h3>New failures <span class="n">1<\/span>/);
    expect(html).toContain('failing for 2 runs, since 2026-11-22 02:00Z');
    expect(html).toContain('changed: image aaaaaaaaaaaa -&gt; bbbbbbbbbbbb; hil 0.1.0 -&gt; 0.2.0');
    expect(html).toMatch(/<tr data-device="cam1" data-check="listing">.*device link\/board errors rising: may be the board/);
    expect(html).toMatch(/<tr data-device="cam2" class="st-bad">.*<b class="rising">rising<\/b><br><small>model-load listing: link dropped<\/small>/);
  });

  it('has the sections in order: changes, grid, device health, flaky, trends (one chart element each)', () => {
    const at = ['id="changes"', 'id="results"', 'id="device-health"', 'id="flaky-checks"', 'id="trends"'].map((s) => html.indexOf(s));
    expect(at.every((x, i) => x > 0 && (i === 0 || x > at[i - 1]!))).toBe(true);
    for (const id of ['flash-throughput', 'check-durations', 'first-inference']) expect(html).toContain(`id="chart-${id}"`);
  });
});
