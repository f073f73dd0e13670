/** Writes the report page as DIR/index.html (whole or not at all: written beside it, then renamed). */
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadChartAssets } from './assets.js';
import type { ReportData } from './data.js';
import { renderReport } from './render.js';

export const REPORT_PAGE = 'index.html';

export async function writeHtmlReport(dir: string, data: ReportData): Promise<string> {
  await mkdir(dir, { recursive: true });
  const file = join(dir, REPORT_PAGE);
  const tmp = join(dir, `.${REPORT_PAGE}.${process.pid}.tmp`);
  await writeFile(tmp, renderReport(data, loadChartAssets(), { dir }));
  await rename(tmp, file);
  return file;
}
