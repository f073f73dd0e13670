/**
 * The one place that finds hil's own checkout (the folder holding package.json, `harness/`,
 * `devices/`, `scenarios/`), whether hil runs from its TypeScript sources (ts-jest) or from the
 * compiled `dist/`. Everything that reads a file shipped with hil (board programs, profiles,
 * scenarios) asks here instead of walking up the tree itself.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError } from './errors.js';

function isCheckout(dir: string): boolean {
  const pkg = join(dir, 'package.json');
  if (!existsSync(pkg) || !existsSync(join(dir, 'harness'))) return false;
  try {
    return (JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'hil';
  } catch {
    return false;
  }
}

let found: string | undefined;

/** Absolute path of hil's checkout (memoised: it cannot change while the process runs). */
export function checkoutDir(): string {
  if (found) return found;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    if (isCheckout(dir)) return (found = dir);
    dir = dirname(dir);
  }
  throw new ConfigError(`hil's checkout (package.json named hil, with harness/) not found above ${fileURLToPath(import.meta.url)}`);
}

/** A path inside hil's checkout. */
export function checkoutPath(...parts: string[]): string {
  return join(checkoutDir(), ...parts);
}
