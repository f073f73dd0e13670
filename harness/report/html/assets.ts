/**
 * The charting library the page bundles inline: uPlot (github:leeoniya/uPlot, MIT), read from the
 * installed `uplot` package (a dependency of hil) at generation time, with its license text kept
 * in front of its code, so the page needs no network and works from file://.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { ConfigError } from '../../errors.js';

export interface ChartAssets {
  /** uPlot's IIFE build (defines the global `uPlot`). */
  js: string;
  css: string;
  /** uPlot's LICENSE file, verbatim. */
  license: string;
  version: string;
}

export function loadChartAssets(): ChartAssets {
  const require = createRequire(import.meta.url);
  let dir: string;
  try {
    dir = dirname(require.resolve('uplot/package.json'));
  } catch {
    throw new ConfigError('the uplot package is not installed (a dependency of hil: reinstall hil)');
  }
  const read = (f: string) => readFileSync(join(dir, f), 'utf8');
  const pkg = JSON.parse(read('package.json')) as { version: string };
  return { js: read('dist/uPlot.iife.min.js'), css: read('dist/uPlot.min.css'), license: read('LICENSE'), version: pkg.version };
}
