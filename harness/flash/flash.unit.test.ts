import { readFileSync } from 'node:fs';
import { describe, expect, it } from '@jest/globals';
import { loadProfile } from '../profile/profile.js';
import { chooseStrategy, whyNot } from './chooseStrategy.js';
import { BoardRefusedError, FlashInputError, NoStrategyError } from './errors.js';
import { decodeBoardMpy, decodeMpyHeader, mpyIncompatibility } from './mpyCompat.js';
import { blocksAcked, cachedPlan, chunkSizeFor, planTransfer, streamFrom, blockDigest, type TransferPlan } from './planTransfer.js';
import { preflight } from './preflight.js';
import { checkImageBytes } from './prepareImage.js';
import type { BoardFacts } from './probeBoard.js';
import { progressLine, createProgress } from './progress.js';
import { resumePoint, blocksTouched } from './sendImage.js';
import { mayResend } from '../device/resend.js';
import { DeviceExceptionError } from '../repl/errors.js';
import { eraseLength, romWriteUnit } from './strategies/romIoctl.js';
import { dfuArgs } from './strategies/dfu.js';
import { openmvBootloaderSerial } from './dfu/bootloaderSerial.js';
import { compareListing } from './verifyFlash.js';
import { flatRomfs } from './testImage.js';
import { InfraError } from '../errors.js';

const fixture = (n: string) => new Uint8Array(readFileSync(new URL(`../../test/fixtures/romfs/${n}`, import.meta.url)));
const h7 = loadProfile('openmv-h7');
const an385 = loadProfile('qemu-mps2-an385');

const facts = (over: Partial<BoardFacts> = {}): BoardFacts => ({
  romIoctl: true, segments: 1, partitionSize: 0x20000, partitionErrno: null, access: 'memoryview', blockSize: null, blockCount: null,
  origin: 0x081e0000, minWrite: 16, eraseBlock: -22,
  mpy: 6 | ((6 << 2 | 3) << 8), deflate: true, bytearrayAt: true, sha256: true, memFree: 200_000, platform: 'pyboard', currentSha256: null, ...over,
});

describe('mpy compatibility', () => {
  it('decodes the board value the qemu firmware reports (6918 = v6 armv7em sub 3)', () => {
    expect(decodeBoardMpy(6918)).toEqual({ version: 6, arch: 6, subVersion: 3 });
  });
  it('bytecode loads anywhere with the same version (sub-version checked for native code only)', () => {
    const board = decodeBoardMpy(6918);
    expect(mpyIncompatibility(decodeMpyHeader(Uint8Array.of(0x4d, 6, 3, 31))!, board)).toBeUndefined();
    expect(mpyIncompatibility(decodeMpyHeader(Uint8Array.of(0x4d, 5, 0, 31))!, board)).toMatch(/version 5/);
    // Bytecode: the sub-version is not checked by MicroPython; native code: it is.
    expect(mpyIncompatibility(decodeMpyHeader(Uint8Array.of(0x4d, 6, 2, 31))!, board)).toBeUndefined();
    expect(mpyIncompatibility(decodeMpyHeader(Uint8Array.of(0x4d, 6, (6 << 2) | 2, 31))!, board)).toMatch(/sub-version 2/);
  });
  it('Thumb firmware loads native code from armv6m up to its own arch only', () => {
    const board = decodeBoardMpy(6918); // armv7em
    const native = (arch: number) => decodeMpyHeader(Uint8Array.of(0x4d, 6, (arch << 2) | 3, 31))!;
    expect(mpyIncompatibility(native(4), board)).toBeUndefined();
    expect(mpyIncompatibility(native(6), board)).toBeUndefined();
    expect(mpyIncompatibility(native(8), board)).toMatch(/armv7emdp.*armv7em/);
    expect(mpyIncompatibility(native(9), board)).toMatch(/xtensa/);
  });
  it('non-Thumb firmware needs the exact arch', () => {
    const x64 = { version: 6, arch: 2, subVersion: 3 };
    expect(mpyIncompatibility({ version: 6, arch: 2, subVersion: 3 }, x64)).toBeUndefined();
    expect(mpyIncompatibility({ version: 6, arch: 1, subVersion: 3 }, x64)).toMatch(/x86/);
  });
  it('rejects non-mpy bytes', () => {
    expect(decodeMpyHeader(new TextEncoder().encode('print(1)'))).toBeUndefined();
  });
});

describe('preflight (nothing written: pure checks)', () => {
  it('accepts an aligned image that fits', () => {
    const img = checkImageBytes(fixture('openmv-flat.img'), 'openmv-flat.img');
    const r = preflight(img, facts({ partitionSize: 4 << 20 }), h7, 'sim0', { partition: 0 });
    expect(r.warnings).toEqual([]);
  });
  it('refuses an image larger than the partition the board reports, naming image, sizes and device', () => {
    const img = checkImageBytes(fixture('openmv-flat.img'), 'openmv-flat.img');
    expect(() => preflight(img, facts({ partitionSize: 1000 }), h7, 'sim0', { partition: 0 })).toThrow(FlashInputError);
    expect(() => preflight(img, facts({ partitionSize: 1000 }), h7, 'sim0', { partition: 0 })).toThrow(/openmv-flat\.img.*sim0.*larger than partition 0 \(1000 bytes/);
  });
  it('refuses misaligned models unless allowed (mpremote-built demo: model.tflite at offset 482)', () => {
    const img = checkImageBytes(fixture('demo.mpremote.img'), 'demo.mpremote.img');
    expect(() => preflight(img, facts(), h7, 'sim0', { partition: 0 })).toThrow(/model 'model\.tflite' data at offset 482.*16-byte aligned/);
    const r = preflight(img, facts(), h7, 'sim0', { partition: 0, allowMisaligned: true });
    expect(r.warnings.join()).toMatch(/model\.tflite/);
  });
  it('counts alignment from the partition address the board reports', () => {
    const img = checkImageBytes(fixture('openmv-flat.img'), 'openmv-flat.img');
    expect(() => preflight(img, facts({ partitionSize: 4 << 20, origin: 0x081e0008 }), h7, 'sim0', { partition: 0 })).toThrow(/not 16-byte aligned/);
  });
  it('refuses a partition the board does not have', () => {
    const img = checkImageBytes(fixture('openmv-flat.img'), 'x.img');
    expect(() => preflight(img, facts({ partitionErrno: -22, partitionSize: null }), h7, 'sim0', { partition: 3 })).toThrow(/partition 3 does not exist/);
  });
  it('refuses .mpy files the board cannot load, naming the file', () => {
    const mpy = Uint8Array.of(0x4d, 6, (8 << 2) | 3, 31, 0, 0);
    const img = checkImageBytes(flatRomfs([{ name: 'fast.mpy', data: mpy }]), 'n.img');
    expect(() => preflight(img, facts({ mpy: 6 | (((8 << 2) | 3) << 8) }), h7, 'sim0', { partition: 0 })).not.toThrow(); // armv7emdp board
    expect(() => preflight(img, facts({ mpy: 6918 }), h7, 'sim0', { partition: 0 })).toThrow(/'fast\.mpy' cannot load.*armv7emdp.*_mpy=6918/);
    const notMpy = checkImageBytes(flatRomfs([{ name: 'x.mpy', data: new TextEncoder().encode('print(1)') }]), 'n.img');
    expect(() => preflight(notMpy, facts(), h7, 'sim0', { partition: 0 })).toThrow(/not a MicroPython \.mpy/);
  });
  it('uses the profile when the board does not report _mpy', () => {
    const mpy = Uint8Array.of(0x4d, 6, (8 << 2) | 3, 31);
    const img = checkImageBytes(flatRomfs([{ name: 'fast.mpy', data: mpy }]), 'n.img');
    expect(() => preflight(img, facts({ mpy: null }), an385, 'q', { partition: 0 })).toThrow(/profile qemu-mps2-an385/);
  });
  it('refuses a corrupt image as bad input', () => {
    const bad = fixture('openmv-flat.img').slice(0, 100);
    expect(() => checkImageBytes(bad, 'cut.img')).toThrow(/image cut\.img: not a valid ROMFS image/);
  });
});

describe('strategy choice', () => {
  const rt = loadProfile('openmv-rt1062');
  const ctx = (f: Partial<BoardFacts>, profile = an385, qemuLoaderAvailable = false) => ({ profile, facts: facts(f), partition: 0, qemuLoaderAvailable, dfuUtilAvailable: true });
  it('uses rom-ioctl on the released API: rom_ioctl(3, id, 0) answered a min write, rom_ioctl(6) = -22 is no obstacle', () => {
    const c = chooseStrategy(ctx({ minWrite: 16, eraseBlock: -22 }, h7), 'b');
    expect(c).toMatchObject({ name: 'rom-ioctl', how: 'auto', skipped: [] });
    expect(c.why).toMatch(/rom_ioctl\(3, 0, 0\) = 16.*rom_ioctl\(6, 0\) = -22 \(released API: whole-range erase only\)/);
  });
  it('falls back to ram when rom_ioctl(3, id, 0) is -22 (qemu port) and the profile allows ram, saying why', () => {
    expect(whyNot('rom-ioctl', ctx({ minWrite: -22 }))).toMatch(/rom_ioctl\(3, 0, 0\) = -22/);
    const c = chooseStrategy(ctx({ minWrite: -22 }), 'b');
    expect(c.name).toBe('ram');
    expect(c.skipped).toEqual([{ name: 'rom-ioctl', why: expect.stringMatching(/= -22/) }]);
  });
  it('a negative answer other than -22 to the writability probe is the board refusing (exit 5), not a reason to try DFU', () => {
    let err: unknown;
    try { chooseStrategy(ctx({ minWrite: -5 }, h7), 'h7board'); } catch (e) { err = e; }
    expect(err).toBeInstanceOf(BoardRefusedError);
    expect((err as Error).message).toMatch(/h7board: board refused the writability probe: rom_ioctl\(3, 0, 0\) = -5/);
  });
  it('picks blockdev for a block-device segment (RT1062), never rom-ioctl', () => {
    const f = { access: 'blockdev' as const, minWrite: -22, blockSize: 4096, blockCount: 2048 };
    expect(whyNot('rom-ioctl', ctx(f, rt))).toMatch(/block device object/);
    expect(chooseStrategy(ctx(f, rt), 'rt')).toMatchObject({ name: 'blockdev', why: expect.stringMatching(/2048 blocks of 4096 bytes/) });
    expect(whyNot('blockdev', ctx({}, rt))).toMatch(/not a block device/);
  });
  it('dfu: the RT1062 NXP loader is out of scope (exit 5 with the reason); OpenMV needs machine.bootloader and dfu-util', () => {
    const f = { access: 'blockdev' as const, minWrite: -22, bootloader: true, uniqueId: '00'.repeat(12) };
    let err: unknown;
    try { chooseStrategy({ ...ctx(f, rt), requested: 'dfu' }, 'rt'); } catch (e) { err = e; }
    expect(err).toBeInstanceOf(NoStrategyError);
    expect((err as NoStrategyError).exitCode).toBe(5);
    expect((err as Error).message).toMatch(/strategy dfu cannot be used: .*NXP's ROM loader/);
    expect(whyNot('dfu', ctx({ bootloader: false }, h7))).toMatch(/machine\.bootloader/);
    expect(chooseStrategy({ ...ctx({ bootloader: true }, h7), requested: 'dfu' }, 'h7').name).toBe('dfu');
    let missing: unknown;
    try { chooseStrategy({ ...ctx({ bootloader: true }, h7), requested: 'dfu', dfuUtilAvailable: false }, 'h7'); } catch (e) { missing = e; }
    expect((missing as Error).message).toMatch(/^dfu-util not found on PATH.*Debian package dfu-util/);
    expect((missing as FlashInputError).exitCode).toBe(2);
  });
  it('never picks ram for a flash partition: no strategy is a clear error (exit 5)', () => {
    let err: unknown;
    const noDfu = { ...h7, flash: { strategies: ['rom-ioctl' as const, 'ram' as const] } };
    try { chooseStrategy(ctx({ minWrite: -22 }, noDfu), 'h7board'); } catch (e) { err = e; }
    expect(err).toBeInstanceOf(NoStrategyError);
    expect((err as NoStrategyError).exitCode).toBe(5);
    expect((err as Error).message).toMatch(/h7board: no flash strategy applies \(rom-ioctl: rom_ioctl\(3, 0, 0\) = -22.*ram: .*not RAM/);
  });
  it('qemu-loader needs the device hook', () => {
    const onlyLoader = { ...an385, flash: { strategies: ['qemu-loader' as const] } };
    expect(() => chooseStrategy(ctx({ minWrite: -22 }, onlyLoader), 'q')).toThrow(/not a QEMU board started by hil/);
    expect(chooseStrategy(ctx({ minWrite: -22 }, onlyLoader, true), 'q').name).toBe('qemu-loader');
  });
  it('a requested strategy must be in the profile and usable', () => {
    expect(() => chooseStrategy({ ...ctx({}, h7), requested: 'ram' }, 'b')).toThrow(FlashInputError);
    expect(() => chooseStrategy({ ...ctx({ bytearrayAt: false }), requested: 'ram' }, 'b')).toThrow(/bytearray_at/);
  });
  it('refuses boards that cannot hash (no verification possible)', () => {
    expect(() => chooseStrategy(ctx({ sha256: false }), 'b')).toThrow(/hashlib\.sha256/);
  });
});

describe('rom-ioctl write unit and erase length', () => {
  it('writes in max(min write answered, the medium word): H7 answers 16 but programs 32-byte words', () => {
    expect(romWriteUnit(16, h7.partition.writeUnit)).toBe(32);
    expect(romWriteUnit(4, undefined)).toBe(4);
    expect(romWriteUnit(16, 4)).toBe(16);
  });
  it('erases whole units covering the image, never past the segment', () => {
    expect(eraseLength(1000, 32, 1 << 20)).toBe(1024);
    expect(eraseLength(0x20000, 32, 0x20000)).toBe(0x20000);
    expect(eraseLength(5000, 1, null)).toBe(5000);
  });
});

describe('DFU bootloader serial', () => {
  it('is machine.unique_id() with its 32-bit words in reverse order, each byte-swapped (the 12 bytes reversed), upper case', () => {
    expect(openmvBootloaderSerial('0123456789abcdef00112233')).toBe('33221100EFCDAB8967452301');
    expect(openmvBootloaderSerial('0011')).toBeUndefined();
    expect(openmvBootloaderSerial(null)).toBeUndefined();
  });
  it('dfu-util arguments: OpenMV bootloader by VID:PID, alt and serial; Arduino by DfuSe address, leaving after read-back', () => {
    const a = dfuArgs(h7.dfu!, 0, 'SER', '/i.img', '/b.img', 100);
    expect(a.download).toEqual(['-w', '-d', ',37c5:9204', '-a', '3', '-S', 'SER', '-D', '/i.img']);
    expect(a.upload).toEqual(['-w', '-d', ',37c5:9204', '-a', '3', '-S', 'SER', '-U', '/b.img', '--reset']);
    const giga = loadProfile('arduino-giga');
    const g = dfuArgs(giga.dfu!, 0, undefined, '/i.img', '/b.img', 100);
    expect(g.download).toEqual(['-w', '-d', ',2341:0366', '-a', '1', '-s', '0x90B00000', '-D', '/i.img']);
    expect(g.upload).toEqual(['-w', '-d', ',2341:0366', '-a', '1', '-s', '0x90B00000:100:leave', '-U', '/b.img']);
  });
});

describe('transfer planning', () => {
  const rnd = (n: number) => Uint8Array.from({ length: n }, (_, i) => (i * 2654435761) >>> 24);
  it('sizes chunks from free heap and the minimum write size', () => {
    expect(chunkSizeFor(null)).toBe(4096);
    expect(chunkSizeFor(10_000)).toBe(1024);
    expect(chunkSizeFor(1 << 30)).toBe(32768);
    expect(chunkSizeFor(100, 1)).toBe(512);
    expect(chunkSizeFor(10_000, 48) % 48).toBe(0);
  });
  it('compresses only when it pays and the board has deflate', () => {
    const text = new TextEncoder().encode('hello world '.repeat(5000));
    expect(planTransfer(text, { memFree: 100_000, deflate: true }).compressed).toBe(true);
    expect(planTransfer(text, { memFree: 100_000, deflate: false }).compressed).toBe(false);
    const noise = new Uint8Array(60_000);
    for (let i = 0; i < noise.length; i++) noise[i] = Math.floor(Math.random() * 256);
    expect(planTransfer(noise, { memFree: 100_000, deflate: true }).compressed).toBe(false);
  });
  it('shares one plan (one compression) among boards of a run that need the same one, and only those', () => {
    const text = new TextEncoder().encode('hello world '.repeat(5000));
    const sha = 'aa'.repeat(32);
    const cache = new Map<string, TransferPlan>();
    const a = cachedPlan(cache, text, sha, { memFree: 100_000, deflate: true }, { minWrite: 32 });
    // Another board with a little more free heap lands on the same chunk sizes: the same plan.
    const b = cachedPlan(cache, text, sha, { memFree: 100_500, deflate: true }, { minWrite: 32 });
    expect(b).toBe(a);
    expect(a.compressed).toBe(true);
    // A board with a different heap class, no deflate, or another write size gets its own.
    expect(cachedPlan(cache, text, sha, { memFree: 20_000, deflate: true }, { minWrite: 32 }).chunkSize).not.toBe(a.chunkSize);
    expect(cachedPlan(cache, text, sha, { memFree: 100_000, deflate: false }, { minWrite: 32 }).compressed).toBe(false);
    expect(cachedPlan(cache, text, sha, { memFree: 100_000, deflate: true }, { minWrite: 48 })).not.toBe(a);
    expect(cache.size).toBe(4);
    // Without a cache nothing is kept.
    expect(cachedPlan(undefined, text, sha, { memFree: 100_000, deflate: true }, { minWrite: 32 })).not.toBe(a);
  });
  it('a stream from block k covers exactly the remaining blocks', () => {
    const img = rnd(10_000);
    const plan = planTransfer(img, { memFree: 8192, deflate: false });
    expect(plan.blockSize).toBe(1024);
    const { data, blockEnds } = streamFrom(plan, img, 3);
    expect(data.length).toBe(10_000 - 3072);
    expect(blockEnds.at(-1)).toBe(data.length);
    expect(blocksAcked(blockEnds, 2048)).toBe(2);
    expect(blocksAcked(blockEnds, 2047)).toBe(1);
  });
  it('compressed frames carry their length and inflate to the block', async () => {
    const { inflateSync } = await import('node:zlib');
    const img = new TextEncoder().encode('abc'.repeat(4000));
    const plan = planTransfer(img, { memFree: 16384, deflate: true });
    const { data, blockEnds } = streamFrom(plan, img, 1);
    const n = new DataView(data.buffer, data.byteOffset).getUint32(0, true);
    expect(4 + n).toBe(blockEnds[0]);
    expect(Buffer.from(inflateSync(data.subarray(4, 4 + n)))).toEqual(Buffer.from(img.subarray(plan.blockSize, 2 * plan.blockSize)));
  });
  it('resume point: first block the board does not hold, and what each block from there holds', () => {
    const img = rnd(4096);
    const plan = planTransfer(img, { memFree: 4096, deflate: false }, { chunkSize: 1024 });
    const d = plan.blocks.map((b) => b.digest);
    const erased = blockDigest(new Uint8Array(1024).fill(0xff));
    expect(resumePoint(plan, 0, [d[0]!, d[1]!, erased])).toEqual({ block: 2, states: ['erased'] });
    expect(resumePoint(plan, 1, [d[1]!, 'garbage', erased])).toEqual({ block: 2, states: ['dirty', 'erased'] });
    expect(resumePoint(plan, 0, [d[0]!, erased, d[2]!])).toEqual({ block: 1, states: ['erased', 'image'] });
    expect(resumePoint(plan, 0, [d[0]!, d[1]!, d[2]!, d[3]!])).toEqual({ block: 4, states: [] });
  });
  it('blocks touched: those starting before the acknowledged bytes plus the chunks in flight', () => {
    expect(blocksTouched([1024, 2048, 3072, 4096], 1024, 2048)).toBe(3);
    expect(blocksTouched([1024, 2048, 3072, 4096], 0, 0)).toBe(0);
    expect(blocksTouched([1024, 2048, 3072, 4096], 0, 1)).toBe(1);
    // compressed: small frames, many complete within one chunk in flight
    expect(blocksTouched([100, 200, 300, 400, 500], 100, 250)).toBe(4);
  });
  it('only link faults are re-sent (the transfer is repeatable to device/resend.ts)', () => {
    expect(mayResend(new InfraError('x', 'transfer'), true, 1, 6)).toBe('repeatable');
    expect(mayResend(new BoardRefusedError('x', 'write', -5), true, 1, 6)).toBe(false);
    expect(mayResend(new DeviceExceptionError('cam', 'Traceback (most recent call last):\nOSError: 5'), true, 1, 6)).toBe(false);
    expect(mayResend(new Error('x'), true, 1, 6)).toBe(false);
  });
});

describe('proof and progress', () => {
  it('compares the /rom listing with the image entries', () => {
    const img = checkImageBytes(fixture('demo.mpremote.img'), 'd');
    const listing = new Map(img.entries.map((e) => [e.path, e.type === 'dir' ? -1 : e.size] as [string, number]));
    expect(compareListing(img.entries, listing)).toEqual([]);
    listing.delete('config.json');
    listing.set('labels.txt', 3);
    listing.set('old.py', 10);
    expect(compareListing(img.entries, listing)).toEqual(["'config.json' missing", "'labels.txt' is 3 bytes, image has 15", "'old.py' not in the image"]);
  });
  it('formats a progress line with bytes, rate and ETA', () => {
    expect(progressLine('flash', 512 * 1024, 1024 * 1024, 2000, 10)).toBe('flash [#####.....]  50%  512.0 KiB / 1.00 MiB  256.0 KiB/s  ETA 2s');
  });
  it('prints quiet lines (one per quarter) when not on a TTY', () => {
    const out: string[] = [];
    let t = 0;
    const p = createProgress({ stream: { write: (s: string) => { out.push(s); return true; } } as never, now: () => t, label: 'f' });
    for (let i = 0; i <= 100; i++) { t = i * 10; p.update(i * 10, 1000); }
    p.finish();
    expect(out.length).toBe(5);
    expect(out[4]).toMatch(/^f: 1000 B \/ 1000 B \(100%/);
  });
});
