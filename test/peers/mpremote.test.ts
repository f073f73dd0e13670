/**
 * The simulated board against a tool written for real boards: mpremote (MicroPython's own CLI,
 * spawned as a user runs it) connected to the pty that `hil sim` prints.
 * - `exec` must work (it uses raw-paste, and waits without a deadline for its answer).
 * - `romfs deploy IMG|DIR` must leave the partition exactly as on a released cam, judged by
 *   hashing the sim's partition file against what released firmware does with mpremote's method
 *   (../shared/docs/firmware.md): stm32 internal flash (H7) erases its one 128 KiB sector
 *   (`rom_ioctl(3, id, len)` erases from the start), the RT1062's Flash object erases the 4 KiB
 *   blocks mpremote names; mpremote writes 4096-byte chunks, the last padded with zeros.
 * Needs HIL_MPREMOTE_SRC (see mpremote.ts); skipped with the reason printed when it is absent.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { locateMpremote, runMpremote, type Mpremote } from './mpremote.js';
import { startHilSim, type HilSim } from './hilSim.js';

const FIX = join(process.cwd(), 'test/fixtures/romfs');
const lookup = locateMpremote();
const built = existsSync(join(process.cwd(), 'dist/harness/cli'));
const skipReason = !lookup.found ? lookup.reason : !built ? 'hil is not built (run `npm run build`; `hil sim` runs dist/)' : '';
if (skipReason) console.log(`mpremote peer tests skipped: ${skipReason}`);
const maybe = skipReason ? describe.skip : describe;
const mpremote = (lookup.found ? lookup.mpremote : undefined) as Mpremote;

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
/** Deadlines: an mpremote run, a test with one deploy (a deploy takes seconds here). */
const DEPLOY_MS = 120_000;
const DEPLOY_TEST_MS = DEPLOY_MS + 60_000;
const CHUNK = 4096; // mpremote's chunk (commands.py, _do_romfs_deploy)

let work = '';
const sims: HilSim[] = [];
beforeEach(() => {
  work = mkdtempSync(join(tmpdir(), 'hil-peer-'));
});
afterEach(async () => {
  for (const s of sims.splice(0)) await s.stop();
  rmSync(work, { recursive: true, force: true });
});

async function sim(profile: string, prefill?: string): Promise<[HilSim, string]> {
  const part = join(work, 'romfs0.bin');
  const s = await startHilSim(['--profile', profile, '--romfs', part, ...(prefill ? ['--image', prefill] : [])]);
  sims.push(s);
  return [s, part];
}

/** The partition file's bytes as they stand (read from disk, not asked of the board). */
const partitionNow = (file: string) => new Uint8Array(readFileSync(file));

/** What mpremote writes: the image in 4096-byte chunks, the last padded with zeros. */
function written(img: Uint8Array): Uint8Array {
  const out = new Uint8Array(Math.ceil(img.length / CHUNK) * CHUNK);
  out.set(img);
  return out;
}

/** A released H7 after mpremote's deploy: the one 128 KiB sector erased, then the chunks. */
function releasedH7(size: number, img: Uint8Array): Uint8Array {
  const out = new Uint8Array(size).fill(0xff);
  out.set(written(img));
  return out;
}

/** A released RT1062 after mpremote's deploy: the blocks it erased rewritten, the rest as before. */
function releasedRt1062(before: Uint8Array, img: Uint8Array): Uint8Array {
  const out = new Uint8Array(before);
  out.set(written(img));
  return out;
}

/** A small source tree (a module, a package, a data file) for `romfs deploy DIR`. */
function tree(): string {
  const dir = join(work, 'tree');
  mkdirSync(join(dir, 'lib', 'pkg'), { recursive: true });
  writeFileSync(join(dir, 'hello.py'), "def hello():\n    return 'hello from /rom'\n");
  writeFileSync(join(dir, 'lib', 'pkg', '__init__.py'), 'VALUE = 42\n');
  const data = Buffer.alloc(10_000);
  for (let i = 0; i < data.length; i++) data[i] = (i * 151 + 3) & 0xff;
  writeFileSync(join(dir, 'data.bin'), data);
  return dir;
}

/** mpremote's own image of a tree (host only, `romfs build`): what its deploy of DIR writes. */
async function builtByMpremote(dir: string): Promise<Uint8Array> {
  const out = join(work, 'tree.img');
  const r = await runMpremote(mpremote, ['romfs', '-o', out, 'build', dir], 60_000);
  expect(r).toMatchObject({ code: 0, timedOut: false });
  return new Uint8Array(readFileSync(out));
}

/**
 * mpremote's deploy; `geometry` is the partition line it prints, which shows the API it found:
 * released stm32 firmware answers rom_ioctl(6) with -22, so one block of the whole partition; the
 * RT1062's Flash object gives its block count and 4 KiB block size.
 */
async function deploy(conn: string, what: string, geometry: string) {
  const r = await runMpremote(mpremote, ['connect', conn, 'romfs', 'deploy', what], DEPLOY_MS);
  expect(r.timedOut).toBe(false);
  expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
  expect(r.stdout).toContain(`ROMFS0 partition has size ${geometry}`);
  expect(r.stdout).toMatch(/ROMFS image deployed/);
  return r;
}
const H7_GEOMETRY = '131072 bytes (1 blocks of 131072 bytes each)';
const RT1062_GEOMETRY = '8388608 bytes (2048 blocks of 4096 bytes each)';

maybe('mpremote against hil sim', () => {
  it('runs `mpremote connect PTY exec` (raw-paste), small and many-window programs, and reports a traceback', async () => {
    const [s] = await sim('openmv-h7');
    expect(s.connection).toMatch(/tty|pts/);
    const one = await runMpremote(mpremote, ['connect', s.connection, 'exec', 'print(6 * 7)'], 30_000);
    expect(one).toEqual({ code: 0, stdout: '42\n', stderr: '', timedOut: false });
    const long = `x = ${JSON.stringify('ab'.repeat(1500))}\nprint(len(x), x[-3:])`;
    const big = await runMpremote(mpremote, ['connect', s.connection, 'exec', long], 30_000);
    expect(big).toEqual({ code: 0, stdout: '3000 bab\n', stderr: '', timedOut: false });
    const bad = await runMpremote(mpremote, ['connect', s.connection, 'exec', 'print("before")\n1/0'], 30_000);
    expect(bad.timedOut).toBe(false);
    expect(bad.code).toBe(1);
    expect(bad.stdout + bad.stderr).toMatch(/before[\s\S]*ZeroDivisionError: divide by zero/);
    // By its /dev/pts name mpremote takes its pty path (blocking reads, as under QEMU).
    const pts = realpathSync(s.connection);
    expect(pts).toMatch(/^\/dev\/pts\/\d+$/);
    const viaPts = await runMpremote(mpremote, ['connect', pts, 'exec', 'print("pts")'], 30_000);
    expect(viaPts).toEqual({ code: 0, stdout: 'pts\n', stderr: '', timedOut: false });
  }, 150_000);

  it('`romfs deploy IMG` on openmv-h7 leaves the partition as a released H7 has it', async () => {
    const [s, part] = await sim('openmv-h7', join(FIX, 'micropython-random.img'));
    const img = new Uint8Array(readFileSync(join(FIX, 'demo.mpremote.img')));
    const size = partitionNow(part).length;
    await deploy(s.connection, join(FIX, 'demo.mpremote.img'), H7_GEOMETRY);
    expect(sha(partitionNow(part))).toBe(sha(releasedH7(size, img)));
  }, DEPLOY_TEST_MS);

  it('`romfs deploy DIR` on openmv-h7 lands the image mpremote builds of it', async () => {
    const [s, part] = await sim('openmv-h7', join(FIX, 'micropython-random.img'));
    const dir = tree();
    const img = await builtByMpremote(dir);
    const size = partitionNow(part).length;
    await deploy(s.connection, dir, H7_GEOMETRY);
    expect(sha(partitionNow(part))).toBe(sha(releasedH7(size, img)));
  }, DEPLOY_TEST_MS);

  it('`romfs deploy IMG` on openmv-rt1062 leaves the partition as a released RT1062 has it', async () => {
    // The old, larger image stays past the blocks mpremote erases, as on the cam.
    const [s, part] = await sim('openmv-rt1062', join(FIX, 'micropython-random.img'));
    const before = partitionNow(part);
    const img = new Uint8Array(readFileSync(join(FIX, 'demo.mpremote.img')));
    await deploy(s.connection, join(FIX, 'demo.mpremote.img'), RT1062_GEOMETRY);
    expect(sha(partitionNow(part))).toBe(sha(releasedRt1062(before, img)));
  }, DEPLOY_TEST_MS);

  it('`romfs deploy DIR` on openmv-rt1062 lands the image mpremote builds of it', async () => {
    const [s, part] = await sim('openmv-rt1062', join(FIX, 'micropython-random.img'));
    const before = partitionNow(part);
    const dir = tree();
    const img = await builtByMpremote(dir);
    await deploy(s.connection, dir, RT1062_GEOMETRY);
    expect(sha(partitionNow(part))).toBe(sha(releasedRt1062(before, img)));
  }, DEPLOY_TEST_MS);
});
