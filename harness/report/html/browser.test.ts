/**
 * The report in a real browser: a seeded history (harness/history/seed.ts: 16 devices x 3
 * scenarios x 60 nights) is written to a SQLite file, `hil report --html` (the built CLI) makes
 * the page, and Debian's chromium (driven by playwright-core, headless, --no-sandbox as root)
 * loads it from file://. Asserted: no console errors, every grid cell matches the seeded outcome
 * of its run, each trend chart drew its series (coloured pixels on its canvas), the cells link to
 * the seeded transcripts. A screenshot is saved as a test artifact: artifacts/report/report.png
 * (or under $HIL_ARTIFACTS). Skipped, with the reason printed, only when chromium is absent.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { spawnSync } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { openHistory } from '../../history/index.js';
import { seedHistory, seedRuns } from '../../history/seed.js';

const CHROMIUM = process.env.HIL_CHROMIUM ?? '/usr/bin/chromium';
const root = resolve(new URL('../../..', import.meta.url).pathname);
const missing = existsSync(CHROMIUM) ? null : `${CHROMIUM} not found (apt-get install chromium): report browser test skipped`;
if (missing) process.stdout.write(`SKIP ${missing}\n`);
const d = missing ? describe.skip : describe;

d('the HTML report in chromium', () => {
  let tmp = '';
  let ids: number[] = [];
  // What the page showed, read in beforeAll (one browser for all assertions).
  let seen: {
    errors: string[];
    cells: { device: string; scenario: string; check: string; run: string; status: string; href: string | null }[];
    charts: { id: string; drawn: string | null; coloured: number }[];
    goneBad: string[];
  };
  const artifacts = process.env.HIL_ARTIFACTS ? resolve(process.env.HIL_ARTIFACTS) : join(root, 'artifacts', 'report');

  beforeAll(async () => {
    tmp = mkdtempSync(join(tmpdir(), 'hil-report-browser-'));
    const file = join(tmp, 'history.sqlite');
    const store = await openHistory(file);
    try {
      ids = await seedHistory(store);
      await store.setDeviceState('cam16', { state: 'bad', reason: 'no answer on 3 nights', since: '2026-03-01T02:30:00.000Z', consecutiveFailures: 3 });
    } finally {
      await store.close();
    }
    const out = join(tmp, 'report');
    const r = spawnSync(process.execPath, ['bin/hil.js', 'report', '--html', out, '--history', file], { cwd: root, encoding: 'utf8', timeout: 60_000 });
    expect(r.stderr).toMatch(/^hil: report of 14 runs, 16 devices/);
    expect(r.status).toBe(0);
    const { chromium } = await import('playwright-core');
    const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: process.getuid?.() === 0 ? ['--no-sandbox'] : [], timeout: 60_000 });
    try {
      const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
      const errors: string[] = [];
      page.on('console', (m) => {
        if (m.type() === 'error') errors.push(m.text());
      });
      page.on('pageerror', (e) => errors.push(String(e)));
      await page.goto(pathToFileURL(join(out, 'index.html')).href, { waitUntil: 'load', timeout: 60_000 });
      // The callbacks run in the page (DOM types are not part of this project's compile: `any`).
      /* eslint-disable @typescript-eslint/no-explicit-any */
      await page.waitForFunction(() => {
        const doc = (globalThis as any).document;
        return doc.querySelectorAll('.chart[data-drawn]').length === doc.querySelectorAll('.chart').length;
      }, undefined, { timeout: 30_000 });
      const data = await page.evaluate(() => {
        const doc = (globalThis as any).document;
        const cells = [...doc.querySelectorAll('#grid tbody tr')].flatMap((row: any) => {
          return [...row.querySelectorAll('td.cell')].map((td: any) => ({
            device: String(row.dataset.device), scenario: String(row.dataset.scenario), check: String(row.dataset.check),
            run: String(td.dataset.run), status: String(td.dataset.status), href: (td.querySelector('a')?.href as string | undefined) ?? null,
          }));
        });
        const charts = [...doc.querySelectorAll('.chart')].map((el: any) => {
          const canvas = el.querySelector('canvas');
          let coloured = 0;
          if (canvas) {
            const px: Uint8ClampedArray = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
            // Series strokes are saturated colours; axes, grid and text are grey or black.
            for (let i = 0; i < px.length; i += 4) if (px[i + 3]! > 0 && Math.max(px[i]!, px[i + 1]!, px[i + 2]!) - Math.min(px[i]!, px[i + 1]!, px[i + 2]!) > 60) coloured++;
          }
          return { id: String(el.id), drawn: el.getAttribute('data-drawn') as string | null, coloured };
        });
        const goneBad = [...doc.querySelectorAll('#gone-bad li')].map((li: any) => String(li.dataset.device));
        return { cells, charts, goneBad };
      });
      /* eslint-enable @typescript-eslint/no-explicit-any */
      seen = { errors, ...data };
      mkdirSync(artifacts, { recursive: true });
      await page.screenshot({ path: join(artifacts, 'report.png'), fullPage: true });
      process.stdout.write(`report screenshot: ${join(artifacts, 'report.png')}\n`);
    } finally {
      await browser.close();
    }
  }, 240_000);

  afterAll(() => {
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it('loads without console errors', () => {
    expect(seen.errors).toEqual([]);
  });

  it('shows, in every grid cell, the seeded outcome of that run (the verdict of its last attempt)', () => {
    const runs = seedRuns();
    // The seeded outcome per run id: check statuses, and a device never reached as `(device)` error.
    const want = new Map<string, string>();
    runs.forEach((run, n) => {
      for (const dev of run.devices) {
        if (dev.error && dev.scenarios.length === 0) want.set(`${ids[n]}|${dev.device}|(device)|(device)`, 'error');
        for (const s of dev.scenarios) for (const c of s.checks) want.set(`${ids[n]}|${dev.device}|${s.scenario}|${c.name}`, c.status);
      }
    });
    const shown = ids.slice(-14).map(String);
    expect([...new Set(seen.cells.map((c) => c.run))]).toEqual(shown);
    const rows = new Set(seen.cells.map((c) => `${c.device}|${c.scenario}|${c.check}`));
    // 16 devices x 7 checks, and the gone device's (device) row.
    expect(rows.size).toBe(16 * 7 + 1);
    expect(seen.cells).toHaveLength(rows.size * 14);
    const mismatches = seen.cells.filter((c) => (want.get(`${c.run}|${c.device}|${c.scenario}|${c.check}`) ?? 'none') !== c.status);
    expect(mismatches).toEqual([]);
    // The seeded story is visible: the regression (cam03..05), the flaky check (cam07), the link errors (cam12), the gone board (cam16).
    const last = shown[shown.length - 1]!;
    const at = (device: string, scenario: string, check: string, run = last) => seen.cells.find((c) => c.device === device && c.scenario === scenario && c.check === check && c.run === run)?.status;
    expect(['cam03', 'cam04', 'cam05'].map((x) => at(x, 'model-load', 'models.inference'))).toEqual(['failed', 'failed', 'failed']);
    expect(at('cam12', 'boot', 'listing')).toBe('error');
    expect(at('cam16', '(device)', '(device)')).toBe('error');
    expect(new Set(seen.cells.filter((c) => c.device === 'cam07' && c.scenario === 'inference').map((c) => c.status))).toEqual(new Set(['passed', 'failed']));
  });

  it('links each cell to its attempt\'s transcript', () => {
    const n = seedRuns().length - 1;
    const c = seen.cells.find((x) => x.device === 'cam03' && x.check === 'models.inference' && x.run === String(ids[n]));
    expect(c?.href).toBe(pathToFileURL(`/var/lib/hil/nightly/${n}/cam03/transcript.txt`).href);
  });

  it('draws every trend chart (series pixels on its canvas)', () => {
    expect(seen.charts.map((c) => c.id)).toEqual(['chart-flash-throughput', 'chart-check-durations', 'chart-first-inference']);
    for (const c of seen.charts) {
      expect(Number(c.drawn)).toBeGreaterThan(0);
      expect(c.coloured).toBeGreaterThan(50);
    }
  });

  it('lists the device that went bad since the previous run', () => {
    expect(seen.goneBad).toEqual(['cam16']);
  });
});
