/**
 * `hil report --html DIR` and `hil run --report DIR`: open the history, read what the report
 * shows, write DIR/index.html. `generateReport` throws (hil report fails with the reason);
 * `refreshReportQuietly` is what `hil run` calls: a report that cannot be made is one warning
 * line and the run's own result stands.
 */
import { existsSync } from 'node:fs';
import { oneLine, UsageError } from '../../errors.js';
import { openHistory, describeLocation, type HistoryLocation } from '../../history/index.js';
import { queryReportData, type ReportQuery } from './query.js';
import { writeHtmlReport } from './write.js';
import type { ReportData } from './data.js';

export interface GenerateOptions extends Omit<ReportQuery, 'hilVersion'> {
  hilVersion: string;
  onWarning?: (line: string) => void;
}

export async function generateReport(location: HistoryLocation, dir: string, opts: GenerateOptions): Promise<{ file: string; data: ReportData }> {
  if (location.kind === 'off') throw new UsageError('the history is off (--no-history or HIL_HISTORY=off): there is nothing to report from');
  // Reading must not create an empty history where the user named a wrong file.
  if (location.kind === 'sqlite' && !existsSync(location.file)) throw new UsageError(`no history at ${location.file} (hil run records one there; or name it with --history PATH|postgres://...)`);
  const store = await openHistory(location, { onWarning: opts.onWarning });
  try {
    const data = await queryReportData(store, opts);
    return { file: await writeHtmlReport(dir, data), data };
  } finally {
    await store.close();
  }
}

export async function refreshReportQuietly(location: HistoryLocation, dir: string, opts: GenerateOptions): Promise<string | undefined> {
  const warn = opts.onWarning ?? (() => {});
  try {
    return (await generateReport(location, dir, opts)).file;
  } catch (e) {
    warn(`report not refreshed (${describeLocation(location)} -> ${dir}): ${oneLine(e)}`);
    return undefined;
  }
}
