/**
 * The HTML report as one self-contained page (no network: uPlot's code and CSS are inline, with
 * its license; works from file://). Everything but the charts is rendered here, so the page reads
 * without script; every piece of text from the history (names, reasons, paths) is escaped.
 * Transcript links are relative to the report's folder when one is given.
 */
import { relative, resolve, sep } from 'node:path';
import type { CheckStatus } from '../../scenario/result.js';
import type { ChartAssets } from './assets.js';
import { reportClient } from './client.js';
import type { ReportCell, ReportChange, ReportData } from './data.js';

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}
const e = (v: unknown) => escapeHtml(v === undefined || v === null ? '' : String(v));

/** JSON inside a <script> element: nothing in it can close the element or start markup. */
export function scriptJson(v: unknown): string {
  return JSON.stringify(v).replace(/</g, '\\u003c').replace(/>/g, '\\u003e').replace(/&/g, '\\u0026').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

/** Text that goes inside a <script> or <style> element verbatim: it must not close the element. */
function rawText(s: string, tag: 'script' | 'style'): string {
  return s.replace(new RegExp(`</(${tag})`, 'gi'), '<\\/$1');
}

export interface RenderOptions {
  /** The folder the page is written to: transcript links are made relative to it. */
  dir?: string;
}

/** A link to a file from the page: relative to the page's folder, each segment URL-encoded. */
export function fileHref(path: string, dir: string | undefined): string {
  const target = dir ? relative(resolve(dir), resolve(path)) : path;
  const parts = target.split(sep).map((p) => (p === '..' || p === '.' ? p : encodeURIComponent(p)));
  return parts.join('/');
}

type Href = (path: string) => string;

/** fileHref for one page, each path worked out once (a transcript is linked from many cells). */
function hrefs(dir: string | undefined): Href {
  const seen = new Map<string, string>();
  return (path) => {
    let h = seen.get(path);
    if (h === undefined) seen.set(path, (h = fileHref(path, dir)));
    return h;
  };
}

const SYMBOL: Record<CheckStatus, string> = { passed: '✓', failed: '✗', error: '!', skipped: '–', simulated: '~' };
const WORD: Record<CheckStatus, string> = { passed: 'PASS', failed: 'FAIL', error: 'ERR', skipped: 'SKIP', simulated: 'SIM' };
const when = (iso: string | undefined) => (iso ? iso.replace('T', ' ').replace(/:\d\d(\.\d+)?Z$/, 'Z') : '');
const short = (sha: string | undefined) => (sha ? sha.slice(0, 12) : '');

function cellTitle(c: ReportCell, run: string): string {
  const lines = [`${WORD[c.status] ?? c.status}${c.failureClass ? ` (${c.failureClass})` : ''} in run ${run}${c.attempts > 1 ? `, attempt ${c.attempts} of ${c.attempts}` : ''}`];
  if (c.reason) lines.push(c.reason);
  for (const a of c.earlier) lines.push(`attempt ${a.attempt}: ${WORD[a.status] ?? a.status}${a.failureClass ? ` (${a.failureClass})` : ''}${a.reason ? `: ${a.reason}` : ''}${a.transcript ? ` [${a.transcript}]` : ''}`);
  if (c.transcript) lines.push(`transcript: ${c.transcript}`);
  return lines.join('\n');
}

function grid(d: ReportData, href: Href): string {
  if (d.rows.length === 0) return '<p class="empty">No results recorded in these runs.</p>';
  const head = d.runs.map((r) => `<th class="run" title="${e(`run ${r.id}${r.host ? ` on ${r.host}` : ''}${r.hilVersion ? `, hil ${r.hilVersion}` : ''}\n${r.startedAt}`)}">${e(r.startedAt.slice(5, 10))}</th>`).join('');
  const body: string[] = [];
  let lastDevice = '';
  for (const row of d.rows) {
    const first = row.device !== lastDevice;
    lastDevice = row.device;
    const cells = row.cells.map((c, i) => {
      const run = d.runs[i]!;
      if (!c) return `<td class="cell s-none" data-run="${e(run.id)}" data-status="none" title="not run"></td>`;
      const retried = c.earlier.length > 0 ? ' retried' : '';
      const inner = `${SYMBOL[c.status] ?? '?'}${c.earlier.length ? `<sup>${c.attempts}</sup>` : ''}`;
      const title = e(cellTitle(c, run.id));
      const link = c.transcript ? `<a href="${e(href(c.transcript))}" title="${title}">${inner}</a>` : `<span title="${title}">${inner}</span>`;
      return `<td class="cell s-${e(c.status)}${retried}" data-run="${e(run.id)}" data-status="${e(c.status)}"${c.failureClass ? ` data-class="${e(c.failureClass)}"` : ''}>${link}</td>`;
    }).join('');
    body.push(`<tr class="${first ? 'first' : ''}" data-device="${e(row.device)}" data-scenario="${e(row.scenario)}" data-check="${e(row.check)}"><th class="dev">${first ? e(row.device) : ''}</th><td class="sc">${e(row.scenario)}</td><td class="ck">${e(row.check)}</td>${cells}</tr>`);
  }
  return `<div class="gridwrap"><table id="grid" class="grid"><thead><tr><th>device</th><th>scenario</th><th>check</th>${head}</tr></thead><tbody>${body.join('\n')}</tbody></table></div>
<p class="legend">✓ pass · ✗ fail · ! error (no verdict) · – skipped · ~ simulated (never a pass) · a small number: attempts (the scenario was retried) · hover a cell for the reason, click it for the transcript</p>`;
}

function changeList(id: string, title: string, list: ReportChange[], href: Href): string {
  const items = list.map((c) => {
    const t = c.transcript ? ` <a href="${e(href(c.transcript))}">transcript</a>` : '';
    const from = c.before ? WORD[c.before] : 'not run';
    return `<li data-device="${e(c.device)}" data-check="${e(c.check)}"><b>${e(c.device)}</b> ${e(c.scenario)} / ${e(c.check)}: ${e(from)} → ${e(WORD[c.after])}${c.failureClass ? ` (${e(c.failureClass)})` : ''}${c.reason ? ` — ${e(c.reason)}` : ''}${c.failingSince ? ` <span class="since">failing for ${c.failingSince.runs} run${c.failingSince.runs === 1 ? '' : 's'}, since ${e(when(c.failingSince.startedAt))}</span>` : ''}${c.changed.length ? ` <span class="changed">changed: ${e(c.changed.join('; '))}</span>` : ''}${t}</li>`;
  });
  return `<div class="change" id="${id}"><h3>${e(title)} <span class="n">${list.length}</span></h3>${items.length ? `<ul>${items.join('')}</ul>` : '<p class="none">none</p>'}</div>`;
}

function changes(d: ReportData, href: Href): string {
  const c = d.changes;
  if (!c.current) return '<p class="empty">No runs recorded yet.</p>';
  const against = c.previous ? `run ${e(c.previous.id)} (${e(when(c.previous.startedAt))})` : 'no earlier run';
  const bad = c.devicesGoneBad.map((b) => `<li data-device="${e(b.device)}"><b>${e(b.device)}</b>${b.since ? ` since ${e(when(b.since))}` : ''}${b.reason ? ` — ${e(b.reason)}` : ''}</li>`);
  return `<p>Run ${e(c.current.id)} (${e(when(c.current.startedAt))}) against ${against}.</p>
<div class="changes">${changeList('new-failures', 'New failures', c.newFailures, href)}${changeList('fixed', 'Fixed', c.fixed, href)}${changeList('still-failing', 'Still failing', c.stillFailing, href)}<div class="change" id="gone-bad"><h3>Devices gone bad <span class="n">${bad.length}</span></h3>${bad.length ? `<ul>${bad.join('')}</ul>` : '<p class="none">none</p>'}</div></div>`;
}

function lastHealth(x: ReportData['devices'][number], href: Href): string {
  const h = x.lastHealth;
  if (!h) return '<td class="health-run">none</td>';
  const t = h.transcript ? ` <a href="${e(href(h.transcript))}">transcript</a>` : '';
  return `<td class="health-run s-${e(h.status)}" data-status="${e(h.status)}" data-run="${e(h.runId)}">${e(WORD[h.status] ?? h.status)} ${e(when(h.startedAt))}${h.reason ? ` — ${e(h.reason)}` : ''}${t}</td>`;
}

function health(d: ReportData, href: Href): string {
  const rows = d.devices.map((x) => `<tr data-device="${e(x.name)}" class="st-${e(x.state)}"><th>${e(x.name)}</th><td class="state">${e(x.state)}</td><td>${e(x.reason)}</td><td>${e(when(x.since))}</td>${lastHealth(x, href)}<td>${x.infraErrors} / ${x.attempts}${x.infraRising ? ' <b class="rising">rising</b>' : ''}${x.infraReasons?.length ? `<br><small>${e(x.infraReasons.join('; '))}</small>` : ''}</td><td>${e(x.profile)}</td><td><code>${e(x.uniqueId)}</code></td><td>${e(x.firmware)}</td></tr>`);
  return `<table class="list" id="health"><thead><tr><th>device</th><th>state</th><th>reason</th><th>since</th><th>last health check (hil device health)</th><th>attempts with link/board errors / attempts (shown runs)</th><th>profile</th><th>unique id</th><th>firmware</th></tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

function flaky(d: ReportData, href: Href): string {
  if (d.flaky.length === 0) return '<p class="none">No check both passed and failed with the same image, firmware and board.</p>';
  const rows = d.flaky.map((f) => {
    const ev = f.evidence.slice(0, 8).map((x) => `<li>${e(when(x.startedAt))}${x.attempt && x.attempt > 1 ? ` (attempt ${x.attempt})` : ''} ${e(WORD[x.status])}${x.reason ? `: ${e(x.reason)}` : ''}${x.transcript ? ` <a href="${e(href(x.transcript))}">transcript</a>` : ''}</li>`).join('');
    const more = f.evidence.length > 8 ? `<li>… ${f.evidence.length - 8} more</li>` : '';
    return `<tr data-device="${e(f.device)}" data-check="${e(f.check)}"><th>${e(f.device)}</th><td>${e(f.scenario)} / ${e(f.check)}</td><td><code>${e(short(f.imageSha))}</code></td><td>${e(f.firmware)}</td><td>${f.passed} pass, ${f.failed} fail${f.deviceInfraRising ? '<br><b class="rising">device link/board errors rising: may be the board</b>' : ''}</td><td><ul>${ev}${more}</ul></td></tr>`;
  });
  return `<table class="list" id="flaky"><thead><tr><th>device</th><th>check</th><th>image</th><th>firmware</th><th>outcomes</th><th>evidence (failures, newest first)</th></tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

function trends(d: ReportData): string {
  return d.charts.map((c) => `<section class="trend"><h3>${e(c.title)} <span class="unit">(${e(c.unit)})</span></h3><div class="chart" id="chart-${e(c.id)}" data-series="${c.series.length}"></div></section>`).join('\n');
}

const CSS = `
body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#222;background:#fff}
h1{font-size:1.5em;margin:0 0 .2em}h2{margin-top:1.6em;border-bottom:1px solid #ddd}h3{margin:.6em 0 .3em;font-size:1.05em}
.meta{color:#555}.n{background:#eee;border-radius:8px;padding:0 .5em;font-size:.9em}
.changes{display:grid;grid-template-columns:repeat(auto-fit,minmax(18em,1fr));gap:1em}
.change ul{margin:.2em 0;padding-left:1.2em}.changed{color:#7a4b00}.none,.empty{color:#777}
#new-failures h3{color:#b00020}#fixed h3{color:#17702f}#gone-bad h3{color:#b00020}
.gridwrap{overflow-x:auto}.grid{border-collapse:collapse;font-size:12px}
.grid th,.grid td{padding:1px 4px;white-space:nowrap}.grid tr.first{border-top:1px solid #bbb}
.grid .run{writing-mode:vertical-rl;font-weight:normal;color:#555}
.cell{width:16px;text-align:center;font-weight:bold}.cell a,.cell span{color:inherit;text-decoration:none;display:block}
.s-passed{background:#d7f2dc;color:#17702f}.s-failed{background:#f9d0d5;color:#b00020}.s-error{background:#ffe0b2;color:#8a4b00}
.s-skipped{background:#eee;color:#777}.s-simulated{background:#dde7f7;color:#2b4f8a}.s-none{background:#fafafa}
.retried{outline:1px dashed #8a4b00;outline-offset:-2px}.cell sup{font-size:8px}
.legend{color:#666;font-size:12px}
.list{border-collapse:collapse}.list th,.list td{border-bottom:1px solid #eee;padding:3px 8px;text-align:left;vertical-align:top}
.list ul{margin:0;padding-left:1em}.st-bad .state{color:#b00020;font-weight:bold}.st-suspect .state{color:#8a4b00;font-weight:bold}.st-ok .state{color:#17702f}
.rising{color:#b00020}.since{color:#555}
.chart{min-height:280px}.unit{color:#777;font-weight:normal}
footer{margin-top:2em;color:#777;font-size:12px}
`;

export function renderReport(d: ReportData, assets: ChartAssets, opts: RenderOptions = {}): string {
  const href = hrefs(opts.dir);
  const range = d.runs.length ? `${d.runs.length} run${d.runs.length > 1 ? 's' : ''}, ${when(d.runs[0]!.startedAt)} to ${when(d.runs[d.runs.length - 1]!.startedAt)}` : 'no runs';
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="hil ${e(d.hilVersion)}">
<title>${e(d.title)}</title>
<style>${rawText(CSS, 'style')}</style>
<style>/* uPlot ${e(assets.version)} (MIT, see the license in the script below) */
${rawText(assets.css, 'style')}</style>
</head>
<body>
<header><h1>${e(d.title)}</h1>
<p class="meta">Generated ${e(when(d.generatedAt))} by hil ${e(d.hilVersion)} from ${e(d.source)} · ${e(range)}</p></header>
<section id="changes"><h2>What changed since the previous run</h2>
${changes(d, href)}</section>
<section id="results"><h2>Devices × checks × last ${d.runs.length} runs</h2>
${grid(d, href)}</section>
<section id="device-health"><h2>Device health</h2>
${health(d, href)}</section>
<section id="flaky-checks"><h2>Flaky checks</h2>
<p class="meta">Checks that both passed and failed with the same image, firmware and board (every attempt of the last runs read). Link and board errors are not counted here: they are the device's (see device health); a flaky check on a device whose link/board errors are rising is listed last and marked.</p>
${flaky(d, href)}</section>
<section id="trends"><h2>Trends</h2>
${trends(d)}</section>
<footer>Charts drawn with uPlot ${e(assets.version)} (MIT license, bundled in this page).</footer>
<script>/*! uPlot ${rawText(assets.version, 'script')} https://github.com/leeoniya/uPlot
${rawText(assets.license.replace(/\*\//g, '* /'), 'script')}
*/
${rawText(assets.js, 'script')}</script>
<script type="application/json" id="report-data">${scriptJson({ charts: d.charts })}</script>
<script>(${rawText(reportClient.toString(), 'script')})(document, uPlot);</script>
</body>
</html>
`;
}
