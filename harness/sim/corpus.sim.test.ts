/**
 * The simulated board's /rom against the firmware: every image of the VfsRom ground-truth corpus
 * (test/fixtures/romfs/corpus, truth.json recorded from MicroPython's real VfsRom) is written into
 * the simulated board's partition with rom_ioctl, mounted with vfs.VfsRom(vfs.rom_ioctl(2, 0)) and
 * walked through the board's own os/open/uctypes (board program sim/rom_walk), on the real wasm
 * MicroPython through the real pty: mount result, every listing in order (where it stops, and
 * how), which files open, sizes, data offsets and bytes, stat. One board boot for the whole corpus.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { startSim, type SimBoard } from './index.js';
import { RawLink } from './rawLink.js';
import { boardProgram } from '../board/program.js';
import { displayPath } from '../romfs/firmwareView.js';

const DIR = fileURLToPath(new URL('../../test/fixtures/romfs/corpus/', import.meta.url));
const PARTITION = 4 * 1024 * 1024; // as the truth's arm32_partition variant was recorded

type Err = { error: string; errno?: number; message?: string };
type DirTruth = string[] | (Err & { partial?: string[]; raw?: string[] });
type FileTruth = { size: number; offset: number; sha256?: string; outside?: boolean } | Err;
interface Result {
  mount: 'ok' | Err;
  dirs?: Record<string, DirTruth>;
  files?: Record<string, FileTruth>;
  stat?: Record<string, [number, number] | Err>;
}
type Entry = Result & { arm32_partition?: Result; arm32?: Result; partition?: Result };
interface Walk {
  erase: number;
  write: number;
  mount: 'ok' | Err;
  dirs?: (string[] | (Err & { partial: string[]; raw?: string[] }))[];
  files?: FileTruth[];
  stat?: ([number, number] | Err)[];
}

const truth = JSON.parse(readFileSync(`${DIR}truth.json`, 'utf8')) as Record<string, Entry>;

/** What a cam does with the image (README: arm32_partition, else arm32, else partition, else main). */
const camResult = (e: Entry): Result => e.arm32_partition ?? e.arm32 ?? e.partition ?? e;
const show = (hex: string) => displayPath(new Uint8Array(Buffer.from(hex, 'hex')));
const errName = (e: Err): Err => ({ error: e.error });

function wantDir(d: DirTruth): unknown {
  if (Array.isArray(d)) return d;
  const out: Record<string, unknown> = { error: d.error, partial: d.partial ?? [] };
  if (d.raw) out.raw = d.raw;
  return out;
}
function gotDir(d: NonNullable<Walk['dirs']>[number]): unknown {
  if (Array.isArray(d)) return d.map(show);
  const out: Record<string, unknown> = { error: d.error, partial: d.partial.map(show) };
  if (d.raw) out.raw = d.raw;
  return out;
}
const normFile = (f: FileTruth): FileTruth =>
  'error' in f ? errName(f) : f.outside ? { size: f.size, offset: f.offset, outside: true } : { size: f.size, offset: f.offset, sha256: f.sha256 };
const normStat = (s: [number, number] | Err) => (Array.isArray(s) ? s : errName(s));

describe('simulated board /rom against the VfsRom corpus (truth.json)', () => {
  let board: SimBoard;
  let link: RawLink;
  beforeAll(async () => {
    board = await startSim({ profile: 'openmv-h7-plus', partitionSize: PARTITION });
    link = await RawLink.serial(board.connection);
    await link.enterRaw();
  });
  afterAll(async () => {
    await link?.close();
    await board?.stop();
  });

  it('agrees on every image: mount, listings, opens, sizes, offsets, stat', async () => {
    const names = Object.keys(truth).sort();
    expect(names.length).toBeGreaterThanOrEqual(296);
    const tally = { images: [0, 0], listings: [0, 0], files: [0, 0], stats: [0, 0] };
    const bad: string[] = [];
    for (const name of names) {
      const want = camResult(truth[name]!);
      const image = readFileSync(DIR + name);
      const params = {
        image: image.toString('hex'),
        erase: 8192,
        dirs: Object.keys(want.dirs ?? {}),
        files: Object.keys(want.files ?? {}),
        stat: Object.keys(want.stat ?? {}),
      };
      const [out, err] = await link.exec(boardProgram('sim/rom_walk', params));
      if (err) throw new Error(`${name}: the board program failed: ${err}`);
      const got = JSON.parse(out) as Walk;
      expect([got.erase, got.write]).toEqual([4, 0]);
      const before = bad.length;
      const wantMount = want.mount === 'ok' ? 'ok' : errName(want.mount);
      const gotMount = got.mount === 'ok' ? 'ok' : errName(got.mount);
      if (JSON.stringify(gotMount) !== JSON.stringify(wantMount)) bad.push(`${name}: mount ${JSON.stringify(gotMount)}, want ${JSON.stringify(wantMount)}`);
      const cmp = (kind: 'listings' | 'files' | 'stats', p: string, g: unknown, w: unknown) => {
        tally[kind][1]++;
        if (JSON.stringify(g) === JSON.stringify(w)) tally[kind][0]++;
        else bad.push(`${name}: ${kind} '${p}': got ${String(JSON.stringify(g)).slice(0, 200)}, want ${String(JSON.stringify(w)).slice(0, 200)}`);
      };
      if (want.mount === 'ok' && got.mount === 'ok') {
        Object.entries(want.dirs ?? {}).forEach(([p, d], i) => cmp('listings', p, got.dirs?.[i] && gotDir(got.dirs[i]!), wantDir(d)));
        Object.entries(want.files ?? {}).forEach(([p, f], i) => cmp('files', p, got.files?.[i] && normFile(got.files[i]!), normFile(f)));
        Object.entries(want.stat ?? {}).forEach(([p, s], i) => cmp('stats', p, got.stat?.[i] && normStat(got.stat[i]!), normStat(s)));
      }
      tally.images[1]++;
      if (bad.length === before) tally.images[0]++;
    }
    const pct = ([a, b]: number[]) => `${a}/${b} (${((100 * a!) / b!).toFixed(1)} %)`;
    process.stdout.write(
      `simulated board /rom vs truth.json: images ${pct(tally.images)}, listings ${pct(tally.listings)}, files ${pct(tally.files)}, stats ${pct(tally.stats)}\n`,
    );
    expect(bad).toEqual([]);
    expect(tally.images[0]).toBe(names.length);
  }, 600000);
});
