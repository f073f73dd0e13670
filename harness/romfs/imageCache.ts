/**
 * The last image built from each input (source folder or config partition), kept with a
 * fingerprint of everything that went into it: options, and every input file's path, size,
 * mtime (ns), inode and ctime (ns; tree.ts statStamp: a rewrite with the mtime put back still moves it). An unchanged rebuild stats the inputs and reads the cached image back
 * instead of compiling and copying; any change to any input gives a new fingerprint. The image
 * file's name carries the fingerprint, so a reader never pairs one build's record with another's bytes.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface CachedImage<M> {
  bytes: Uint8Array;
  meta: M;
}

interface Record<M> {
  fingerprint: string;
  file: string;
  length: number;
  meta: M;
}

const keyOf = (inputId: string) => createHash('sha256').update(inputId).digest('hex').slice(0, 32);

export function fingerprint(parts: unknown): string {
  return createHash('sha256').update(JSON.stringify(parts)).digest('hex');
}

export function readCachedImage<M>(cacheDir: string, inputId: string, fp: string): CachedImage<M> | undefined {
  const dir = join(cacheDir, 'images');
  try {
    const rec = JSON.parse(readFileSync(join(dir, `${keyOf(inputId)}.json`), 'utf8')) as Record<M>;
    if (rec.fingerprint !== fp || rec.file !== `${keyOf(inputId)}.${fp.slice(0, 32)}.img`) return undefined;
    const buf = readFileSync(join(dir, rec.file));
    if (buf.length !== rec.length) return undefined;
    return { bytes: new Uint8Array(buf.buffer, buf.byteOffset, buf.length), meta: rec.meta };
  } catch {
    return undefined;
  }
}

export function writeCachedImage<M>(cacheDir: string, inputId: string, fp: string, bytes: Uint8Array, meta: M): void {
  try {
    const dir = join(cacheDir, 'images');
    mkdirSync(dir, { recursive: true });
    const key = keyOf(inputId);
    const recPath = join(dir, `${key}.json`);
    let previous: string | undefined;
    try {
      previous = (JSON.parse(readFileSync(recPath, 'utf8')) as Record<M>).file;
    } catch {
      previous = undefined;
    }
    const file = `${key}.${fp.slice(0, 32)}.img`;
    const tag = `.${process.pid}.tmp`;
    writeFileSync(join(dir, file + tag), bytes);
    renameSync(join(dir, file + tag), join(dir, file));
    const rec: Record<M> = { fingerprint: fp, file, length: bytes.length, meta };
    writeFileSync(recPath + tag, JSON.stringify(rec));
    renameSync(recPath + tag, recPath);
    if (previous && previous !== file && /^[0-9a-f]{32}\.[0-9a-f]{32}\.img$/.test(previous)) rmSync(join(dir, previous), { force: true });
  } catch {
    // A cache that cannot be written only costs time.
  }
}

/**
 * Output-file mode: the image already written to `outFile` is the cache. The record keeps the
 * fingerprint and the output's stat after writing; an unchanged input with an untouched output
 * needs no work at all.
 */
interface OutputRecord<M> {
  fingerprint: string;
  out: string;
  outStamp: string;
  length: number;
  meta: M;
}

const outKey = (inputId: string, outFile: string) => keyOf(`${inputId}\0${outFile}`);

export function readCachedOutput<M>(cacheDir: string, inputId: string, outFile: string, fp: string, stampOf: (p: string) => string | undefined): { length: number; meta: M } | undefined {
  try {
    const rec = JSON.parse(readFileSync(join(cacheDir, 'outputs', `${outKey(inputId, outFile)}.json`), 'utf8')) as OutputRecord<M>;
    if (rec.fingerprint !== fp || rec.out !== outFile) return undefined;
    if (stampOf(outFile) !== rec.outStamp) return undefined;
    return { length: rec.length, meta: rec.meta };
  } catch {
    return undefined;
  }
}

export function writeCachedOutput<M>(cacheDir: string, inputId: string, outFile: string, fp: string, outStamp: string, length: number, meta: M): void {
  try {
    const dir = join(cacheDir, 'outputs');
    mkdirSync(dir, { recursive: true });
    const p = join(dir, `${outKey(inputId, outFile)}.json`);
    const rec: OutputRecord<M> = { fingerprint: fp, out: outFile, outStamp, length, meta };
    writeFileSync(`${p}.${process.pid}.tmp`, JSON.stringify(rec));
    renameSync(`${p}.${process.pid}.tmp`, p);
  } catch {
    // A cache that cannot be written only costs time.
  }
}
