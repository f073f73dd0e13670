/** `--json FILE`: the whole RunResult, versioned. */
import { writeFile } from 'node:fs/promises';
import type { RunResult } from '../scenario/result.js';

export const JSON_REPORT_VERSION = 1;

export function toJsonReport(run: RunResult): string {
  return JSON.stringify({ hil: { report: JSON_REPORT_VERSION }, ...run }, null, 2) + '\n';
}

export async function writeJsonReport(file: string, run: RunResult): Promise<void> {
  await writeFile(file, toJsonReport(run));
}
