/**
 * The reader against the firmware: every image of test/fixtures/romfs/corpus (copied from
 * ../shared; truth.json recorded with MicroPython's real VfsRom, see its README) mounted with
 * `mountVfsRom` and walked as the probe walked it: mount result, every listing in order (where it
 * stops, what it yields before a UnicodeError, endless ones), every open (size, offset, sha256
 * of data inside the buffer), every stat, the paths the listing never reaches, errors by errno.
 * The truth compared is a cam's: `arm32_partition`, else `arm32`, else `partition`, else the main
 * result (the image at the start of a 4 MiB 0xFF partition, except for `arm32`: a bytes object).
 * The test prints the agreement and requires 100 %.
 */
import { readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from '@jest/globals';
import { mountVfsRom, romPath, isMicroPythonStr, VfsRomError, type VfsRom, type VfsRomEntry } from './vfsRom.js';
import { firmwareView, displayPath, type FirmwareEntry } from './firmwareView.js';
import { parseRomfs } from './parse.js';
import { RomfsFormatError } from './errors.js';

const DIR = fileURLToPath(new URL('../../test/fixtures/romfs/corpus/', import.meta.url));
const PARTITION = 4 * 1024 * 1024;
const ENDLESS = 5000;

type Err = { error: string; errno?: number; message?: string };
type DirTruth = string[] | (Err & { partial?: string[]; raw?: string[]; listdir?: boolean });
type FileTruth = { size: number; offset: number; sha256?: string; outside?: boolean } | Err;
interface Result {
  mount: 'ok' | Err;
  dirs?: Record<string, DirTruth>;
  files?: Record<string, FileTruth>;
  stat?: Record<string, [number, number] | Err>;
  hidden?: string[];
}
type Entry = Result & { arm32?: Result; partition?: Result; arm32_partition?: Result };

const truth = JSON.parse(readFileSync(`${DIR}truth.json`, 'utf8')) as Record<string, Entry>;
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

/** The cam's result and how it was mounted. */
function camTruth(e: Entry): { result: Result; variant: string; partition: boolean } {
  if (e.arm32_partition) return { result: e.arm32_partition, variant: 'arm32_partition', partition: true };
  if (e.arm32) return { result: e.arm32, variant: 'arm32', partition: false };
  if (e.partition) return { result: e.partition, variant: 'partition', partition: true };
  return { result: e, variant: 'main', partition: true };
}

/** A truth.json path as bytes ('hex:' + bytes for a path that is not strict UTF-8). */
const pathBytes = (p: string): Uint8Array => (p.startsWith('hex:') ? new Uint8Array(Buffer.from(p.slice(4), 'hex')) : new TextEncoder().encode(p));
const errOf = (e: unknown): Err => {
  if (e instanceof VfsRomError) return { error: e.errno };
  throw e;
};
/** Only the errno name counts (truth also has the number and message). */
const norm = (e: Err): Err => ({ error: e.error });

function listing(vfs: VfsRom, path: string): DirTruth {
  let it: Iterator<VfsRomEntry>;
  try {
    it = vfs.ilistdir(romPath(pathBytes(path)));
  } catch (e) {
    return { ...errOf(e), partial: [] };
  }
  const names: Uint8Array[] = [];
  try {
    for (let r = it.next(); !r.done; r = it.next()) {
      names.push(r.value.name);
      if (names.length > ENDLESS) return { error: 'endless', partial: names.slice(0, ENDLESS).map(displayPath) };
    }
  } catch (e) {
    return { ...errOf(e), partial: names.map(displayPath) };
  }
  // os.ilistdir of a str path makes a str of each name: the first one MicroPython's UTF-8 check
  // refuses raises UnicodeError (the probe then lists with a bytes path: `raw`).
  const bad = names.findIndex((n) => !isMicroPythonStr(n));
  if (bad >= 0) return { error: 'UnicodeError', partial: names.slice(0, bad).map(displayPath), raw: names.map(hex) };
  return names.map(displayPath);
}

function normDir(d: DirTruth): DirTruth {
  if (Array.isArray(d)) return d;
  const out: DirTruth = { error: d.error, partial: d.partial ?? [] };
  if (d.raw) out.raw = d.raw;
  if (d.error === 'endless') out.partial = (d.partial ?? []).slice(0, ENDLESS);
  return out;
}

function opened(vfs: VfsRom, path: string): FileTruth {
  try {
    const f = vfs.open(romPath(pathBytes(path)));
    if (f.outside) return { size: f.size, offset: f.offset, outside: true };
    return { size: f.size, offset: f.offset, sha256: sha(vfs.read(f.offset, f.length)) };
  } catch (e) {
    return errOf(e);
  }
}

function normFile(f: FileTruth): FileTruth {
  if ('error' in f) return norm(f);
  return f.outside ? { size: f.size, offset: f.offset, outside: true } : { size: f.size, offset: f.offset, sha256: f.sha256 };
}

function stated(vfs: VfsRom, path: string): [number, number] | Err {
  try {
    const s = vfs.stat(romPath(pathBytes(path)));
    return [s.type === 'dir' ? 16384 : 32768, s.size];
  } catch (e) {
    return errOf(e);
  }
}

interface Tally { images: [number, number]; files: [number, number]; listings: [number, number]; stats: [number, number] }
const tally: Tally = { images: [0, 0], files: [0, 0], listings: [0, 0], stats: [0, 0] };
const mismatches: string[] = [];

function check(name: string): string[] {
  const bytes = new Uint8Array(readFileSync(DIR + name));
  const { result: want, variant, partition } = camTruth(truth[name]!);
  const bad: string[] = [];
  let vfs: VfsRom | undefined;
  let mount: 'ok' | Err;
  try {
    vfs = mountVfsRom(bytes, partition ? { bufferLength: PARTITION } : {});
    mount = 'ok';
  } catch (e) {
    mount = errOf(e);
  }
  const wantMount = want.mount === 'ok' ? 'ok' : norm(want.mount);
  if (JSON.stringify(mount) !== JSON.stringify(wantMount)) bad.push(`mount: got ${JSON.stringify(mount)}, want ${JSON.stringify(wantMount)} (${variant})`);
  if (vfs && want.mount === 'ok') {
    for (const [p, d] of Object.entries(want.dirs ?? {})) {
      tally.listings[1]++;
      const got = listing(vfs, p);
      if (JSON.stringify(got) === JSON.stringify(normDir(d))) tally.listings[0]++;
      else bad.push(`dir '${p}': got ${JSON.stringify(got).slice(0, 300)}, want ${JSON.stringify(normDir(d)).slice(0, 300)} (${variant})`);
    }
    for (const [p, f] of Object.entries(want.files ?? {})) {
      tally.files[1]++;
      const got = opened(vfs, p);
      if (JSON.stringify(got) === JSON.stringify(normFile(f))) tally.files[0]++;
      else bad.push(`open '${p}': got ${JSON.stringify(got)}, want ${JSON.stringify(normFile(f))} (${variant})`);
    }
    for (const [p, s] of Object.entries(want.stat ?? {})) {
      tally.stats[1]++;
      const got = stated(vfs, p);
      const w = Array.isArray(s) ? s : norm(s);
      if (JSON.stringify(got) === JSON.stringify(w)) tally.stats[0]++;
      else bad.push(`stat '${p}': got ${JSON.stringify(got)}, want ${JSON.stringify(w)} (${variant})`);
    }
    // The paths the listing reaches are firmwareView's; every other path the truth names is hidden.
    const view = firmwareView(bytes, partition ? { bufferLength: PARTITION } : {});
    // The probe walks into a listed directory only when its name is a plain path component
    // (not empty, no '/', no NUL): it lists such a directory, but what that listing yields is
    // not "reached" (the firmware resolves the joined path elsewhere, or the walk would not end).
    const plain = (n: Uint8Array) => n.length > 0 && !n.includes(0x2f) && !n.includes(0);
    const walkedInto = (e: FirmwareEntry | undefined): boolean => !e || (plain(e.name) && walkedInto(e.parent));
    const reached = new Set(view.entries.filter((e) => walkedInto(e.parent)).map((e) => e.display));
    const named = new Set([...Object.keys(want.dirs ?? {}), ...Object.keys(want.files ?? {}), ...Object.keys(want.stat ?? {})]);
    named.delete('');
    const hidden = [...named].filter((p) => !reached.has(p)).sort();
    const wantHidden = [...(want.hidden ?? [])].sort();
    if (JSON.stringify(hidden) !== JSON.stringify(wantHidden)) bad.push(`hidden: got ${JSON.stringify(hidden)}, want ${JSON.stringify(wantHidden)}`);
  }
  tally.images[1]++;
  if (bad.length === 0) tally.images[0]++;
  return bad;
}

const pct = ([a, b]: [number, number]) => `${a}/${b} (${b ? ((100 * a) / b).toFixed(1) : '100.0'} %)`;

describe('VfsRom model against the firmware corpus (truth.json)', () => {
  const names = Object.keys(truth).sort();

  it('has the whole corpus', () => {
    expect(names.length).toBeGreaterThanOrEqual(296);
  });

  it.each(names)('%s', (name) => {
    const bad = check(name);
    if (bad.length) mismatches.push(`${name}:\n  ${bad.join('\n  ')}`);
    expect(bad).toEqual([]);
  });

  it('agrees on 100 % of images, files and listings', () => {
    const line = `corpus agreement: images ${pct(tally.images)}, files ${pct(tally.files)}, listings ${pct(tally.listings)}, stats ${pct(tally.stats)}`;
    process.stdout.write(`${line}\n`);
    if (mismatches.length) process.stdout.write(`${mismatches.slice(0, 20).join('\n')}\n`);
    expect(tally.images[1]).toBe(names.length);
    expect(tally.images[0]).toBe(tally.images[1]);
    expect(tally.files[0]).toBe(tally.files[1]);
    expect(tally.listings[0]).toBe(tally.listings[1]);
    expect(tally.stats[0]).toBe(tally.stats[1]);
  });
});

describe('the strict parser accepts only images the firmware reads the same way', () => {
  const names = Object.keys(truth).sort();
  let accepted = 0;
  it.each(names)('%s', (name) => {
    const bytes = new Uint8Array(readFileSync(DIR + name));
    let parsed;
    try {
      parsed = parseRomfs(bytes);
    } catch (e) {
      if (e instanceof RomfsFormatError) return;
      throw e;
    }
    accepted++;
    const view = firmwareView(bytes, { bufferLength: PARTITION });
    const fw = view.entries.map((e) =>
      e.type === 'dir' ? { type: 'dir', path: `${e.display}/` } : { type: 'file', path: e.display, ...(e.open && 'offset' in e.open ? { offset: e.open.offset, size: e.open.length } : { open: e.open }) },
    );
    expect(fw).toEqual(parsed.entries);
  });
  it('accepts the well-formed part of the corpus', () => {
    process.stdout.write(`strict parse accepts ${accepted} of ${names.length} corpus images; the firmware reads each one as it does\n`);
    expect(accepted).toBeGreaterThan(100);
  });
});
