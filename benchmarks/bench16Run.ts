/**
 * One run of speed.bench16 in a process of its own (speed.bench.ts starts it once per run):
 * `node dist/benchmarks/bench16Run.js ROOT BENCH_YAML LOCK_DIR` runs scenarios/model-load on the
 * bench file's boards, as `hil run --bench` does, and prints one JSON line: the process's CPU
 * (every thread: the thread pool and V8's helpers too), its main thread's, and the wall time.
 * hil's modules are loaded before the clock starts (start-up has figures of its own); whatever
 * the run loads on demand is counted. A fresh process per run is what a nightly `hil run` is:
 * nothing is warm from an earlier run or from the bench's other figures.
 */
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { mainThreadCpuMs } from './procCpu.js';

const [root, bench, lockDir] = process.argv.slice(2);
if (!root || !bench || !lockDir) {
  process.stderr.write('usage: bench16Run.js ROOT BENCH_YAML LOCK_DIR\n');
  process.exit(2);
}
const { runScenarios } = (await import(pathToFileURL(join(root, 'dist/harness/bench/runScenarios.js')).href)) as typeof import('../harness/bench/runScenarios.js');
const m0 = mainThreadCpuMs();
const c0 = process.cpuUsage();
const t0 = performance.now();
const r = await runScenarios({ scenarios: [join(root, 'scenarios', 'model-load')], bench, cwd: root, lockDir });
const wallMs = performance.now() - t0;
const c = process.cpuUsage(c0);
const m1 = mainThreadCpuMs();
process.stdout.write(`${JSON.stringify({ exitCode: r.exitCode, cpuMs: (c.user + c.system) / 1000, mainMs: m0 === null || m1 === null ? null : m1 - m0, wallMs })}\n`);
