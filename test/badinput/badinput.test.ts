/**
 * Bad input, end to end: each case in cases.ts is run as a process (`node bin/hil.js`, built by
 * `npm run build`), and must give exactly one stderr line `hil: <error>`, its exit code, nothing on
 * stdout, and no file written in its temp folder. The README table must equal catalogueTable().
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { CASES, catalogueTable } from './cases.js';

const root = resolve(process.cwd());
const built = existsSync(join(root, 'dist/harness/cli/main.js'));
if (!built) console.log('test/badinput skipped: run `npm run build` first (dist/harness/cli/main.js missing)');
const maybe = built ? test : test.skip;

let T = '';
beforeAll(() => {
  T = mkdtempSync(join(tmpdir(), 'hil-badinput-'));
  writeFileSync(join(T, 'bad.img'), 'junk\n');
  writeFileSync(join(T, 'trunc.img'), readFileSync(join(root, 'test/fixtures/romfs/openmv-flat.img')).subarray(0, 100));
  writeFileSync(join(T, 'bad.yaml'), 'name: [unclosed\n');
  writeFileSync(join(T, 'bad.json'), '{"a":');
});
afterAll(() => rmSync(T, { recursive: true, force: true }));

describe.each(CASES)('$input', (c) => {
  maybe(`exit ${c.exit}, one line, nothing written`, () => {
    const before = readdirSync(T).sort();
    const args = c.args.map((a) => a.replace('$T', T));
    const r = spawnSync(process.execPath, ['bin/hil.js', ...args], { cwd: root, encoding: 'utf8', timeout: 60_000, env: { ...process.env, NO_COLOR: '1', ...(c.env ?? {}) } });
    const lines = r.stderr.split('\n').filter((l) => l.length > 0);
    expect({ status: r.status, lines: lines.length }).toEqual({ status: c.exit, lines: 1 });
    expect(lines[0]).toMatch(/^hil: /);
    expect(lines[0]).toMatch(c.error);
    expect(r.stdout).toBe('');
    expect(readdirSync(T).sort()).toEqual(before);
  }, 90_000);
});

test('the README bad input catalogue is exactly the table these cases prove', () => {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  expect(readme).toContain(catalogueTable());
});
