/**
 * Bad input, end to end: each case in cases.ts is run as a process (`node bin/hil.js`, built by
 * `npm run build`), and must give exactly one stderr line `hil: <error>`, its exit code, nothing on
 * stdout, and no file written in its temp folder. The README table must equal catalogueTable().
 * A case that cannot be arranged on this machine (no socat; root whose CLI cannot run as nobody)
 * is skipped with the reason printed, never passed.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { CASES, catalogueTable, type Prepared } from './cases.js';

const root = resolve(process.cwd());
const built = existsSync(join(root, 'dist/harness/cli/main.js'));
if (!built) console.log('test/badinput skipped: run `npm run build` first (dist/harness/cli/main.js missing)');

let T = '';
beforeAll(() => {
  T = mkdtempSync(join(tmpdir(), 'hil-badinput-'));
  writeFileSync(join(T, 'bad.img'), 'junk\n');
  writeFileSync(join(T, 'trunc.img'), readFileSync(join(root, 'test/fixtures/romfs/openmv-flat.img')).subarray(0, 100));
  writeFileSync(join(T, 'bad.yaml'), 'name: [unclosed\n');
  writeFileSync(join(T, 'bad.json'), '{"a":');
  // A misspelt key: in a bench device (readyTimeoutMs) and at a scenario's top level (flash).
  writeFileSync(join(T, 'typo-bench.yaml'), 'devices:\n  cam: { profile: openmv-h7, connection: "socket://127.0.0.1:1", readyTimeout: 5000 }\n');
  mkdirSync(join(T, 'typo-scenario'));
  writeFileSync(join(T, 'typo-scenario', 'scenario.yaml'), 'name: typo\nimage: { source: ../../images/demo }\nflsh: never\nchecks: [listing]\n');
  mkdirSync(join(T, 'nomodule-scenario'));
  writeFileSync(join(T, 'nomodule-scenario', 'scenario.yaml'), 'name: nomodule\nimage: { source: ../../images/demo }\nchecks: [listing, { module: ./my_check.ts }]\n');
  // An existing file in place of QEMU firmware (never run: the QEMU binary is missing), and a
  // PATH folder holding node only.
  writeFileSync(join(T, 'firmware.elf'), 'placeholder: not firmware\n');
  mkdirSync(join(T, 'bin'));
  symlinkSync(process.execPath, join(T, 'bin', 'node'));
});
afterAll(() => rmSync(T, { recursive: true, force: true }));

describe.each(CASES)('$input', (c) => {
  const unavailable = built ? c.unavailable?.({ root }) ?? null : null;
  if (unavailable) console.log(`test/badinput: '${c.input}' skipped: ${unavailable}`);
  const run = built && !unavailable ? test : test.skip;
  run(unavailable ? `skipped: ${unavailable}` : `exit ${c.exit}, one line, nothing written`, async () => {
    const prepared: Prepared = (await c.prepare?.({ T, root })) ?? {};
    const vars = prepared.vars ?? {};
    const sub = (a: string) => Object.entries(vars).reduce((s, [k, v]) => s.replaceAll(k, v), a).replaceAll('$T', T);
    try {
      const before = readdirSync(T).sort();
      const env = { ...process.env, NO_COLOR: '1', ...Object.fromEntries(Object.entries(c.env ?? {}).map(([k, v]) => [k, sub(v)])) };
      const r = spawnSync(process.execPath, ['bin/hil.js', ...c.args.map(sub)], { cwd: root, encoding: 'utf8', timeout: 60_000, env, uid: prepared.uid, gid: prepared.gid, input: '' });
      const lines = r.stderr.split('\n').filter((l) => l.length > 0);
      expect({ status: r.status, lines: lines.length }).toEqual({ status: c.exit, lines: 1 });
      expect(lines[0]).toMatch(/^hil: /);
      expect(lines[0]).toMatch(c.error);
      expect(r.stdout).toBe('');
      expect(readdirSync(T).sort()).toEqual(before);
    } finally {
      await prepared.release?.();
    }
  }, 90_000);
});

test('the README bad input catalogue is exactly the table these cases prove', () => {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  expect(readme).toContain(catalogueTable());
});
