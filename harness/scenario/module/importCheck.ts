/**
 * Load a custom check module (`module:` in scenario.yaml): JavaScript (`.js`, `.mjs`) as is, or
 * TypeScript (`.ts`, `.mts`) through the transpiling hooks in tsHooks.ts, registered once per
 * process the first time a TypeScript check is loaded (under a runner that already transforms
 * TypeScript, such as Jest, the hooks are not needed and are not registered).
 */
import { existsSync } from 'node:fs';
import { register } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ConfigError, oneLine } from '../../errors.js';

const hooksUrl = new URL('./tsHooks.js', import.meta.url);
let hooksRegistered = false;

export const isTypeScriptCheck = (path: string) => /\.m?ts$/.test(path);

function ensureTypeScriptHooks(): void {
  if (hooksRegistered) return;
  hooksRegistered = true;
  // Built hil (dist/) has tsHooks.js beside this file; run from sources under a TypeScript
  // runner it does not, and that runner loads .ts itself.
  if (existsSync(fileURLToPath(hooksUrl))) register(hooksUrl);
}

export async function importCheckModule(path: string): Promise<{ check?: unknown; default?: unknown }> {
  if (isTypeScriptCheck(path)) ensureTypeScriptHooks();
  try {
    return (await import(pathToFileURL(path).href)) as { check?: unknown; default?: unknown };
  } catch (e) {
    // A module that does not load (missing, a syntax error, an import it lacks) is that check's
    // configuration error naming the module: never an infrastructure error, never a pass.
    throw new ConfigError(`${path}: check module did not load: ${e instanceof Error ? `${e.name}: ${oneLine(e)}` : oneLine(e)}`);
  }
}
