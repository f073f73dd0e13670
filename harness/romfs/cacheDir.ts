/** Where hil keeps compiled .mpy files and the last image of each source: $XDG_CACHE_HOME/hil, else node_modules/.cache/hil-mpy. */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export function defaultCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.XDG_CACHE_HOME) return join(env.XDG_CACHE_HOME, 'hil');
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    if (existsSync(join(dir, 'node_modules'))) return join(dir, 'node_modules', '.cache', 'hil-mpy');
    dir = dirname(dir);
  }
  return join(process.cwd(), 'node_modules', '.cache', 'hil-mpy');
}
