/**
 * The real thing: an image hil builds (directories, compiled .mpy, aligned model) is loaded into
 * the ROMFS partition of real MicroPython under qemu-system-arm (MPS2_AN385, partition in RAM at
 * 0x21000000), which mounts it at /rom at boot. On the board, every file's bytes hash to what the
 * builder says, and `uctypes.addressof(file)` minus the origin equals the builder's data offset,
 * so the alignment is the one the firmware sees. Skips (with the reason) without HIL_QEMU_FIRMWARE.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from '@jest/globals';
import { buildImage } from './build.js';
import { loadProfile } from '../profile/profile.js';

const firmware = process.env.HIL_QEMU_FIRMWARE;
const haveQemu = spawnSync('qemu-system-arm', ['--version']).status === 0;
const reason = !firmware ? 'HIL_QEMU_FIRMWARE is not set' : !haveQemu ? 'qemu-system-arm is not installed' : '';
if (reason) process.stdout.write(`skipping romfs QEMU mount test: ${reason}\n`);

const F = fileURLToPath(new URL('../../test/fixtures/', import.meta.url));
// Made only when the tests run: Jest runs no afterAll in a file whose tests are all skipped,
// so a folder made for skipped tests would be left behind.
const tmp = reason ? join(tmpdir(), 'hil-romfs-qemu-skipped') : mkdtempSync(join(tmpdir(), 'hil-romfs-qemu-'));
let qemu: ChildProcess | undefined;
afterAll(() => {
  qemu?.kill('SIGKILL');
  rmSync(tmp, { recursive: true, force: true });
});

/** Read from qemu's stdout until `pattern` appears or the deadline passes. */
function until(proc: ChildProcess, state: { buf: string }, pattern: RegExp, ms: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const check = () => {
      const m = pattern.exec(state.buf);
      if (!m) return false;
      const upto = state.buf.slice(0, m.index + m[0].length);
      state.buf = state.buf.slice(m.index + m[0].length);
      clearTimeout(timer);
      proc.stdout!.off('data', onData);
      resolve(upto);
      return true;
    };
    const onData = () => void check();
    const timer = setTimeout(() => {
      proc.stdout!.off('data', onData);
      reject(new Error(`qemu: no ${pattern} within ${ms} ms; got ${JSON.stringify(state.buf.slice(-300))}`));
    }, ms);
    proc.stdout!.on('data', onData);
    check();
  });
}

const BOARD_CODE = `
import os, uctypes, hashlib, binascii, json
res = []
def walk(p):
    for e in sorted(os.ilistdir(p)):
        fp = p + '/' + e[0]
        if e[1] == 0x4000:
            res.append([fp[5:] + '/'])
            walk(fp)
        else:
            f = open(fp, 'rb')
            a = uctypes.addressof(f)
            d = f.read()
            f.close()
            res.append([fp[5:], len(d), a - 0x21000000, binascii.hexlify(hashlib.sha256(d).digest()).decode()])
walk('/rom')
print('RES' + json.dumps(res))
`;

describe('real MicroPython (qemu MPS2_AN385) mounts what hil builds', () => {
  (reason ? it.skip : it)('files, sizes, sha256 and data addresses on the board match the builder', async () => {
    const profile = loadProfile('qemu-mps2-an385');
    const built = await buildImage({ sourceDir: `${F}trees/demo`, profile, cacheDir: false });
    const img = join(tmp, 'demo.img');
    writeFileSync(img, built.bytes);
    qemu = spawn('qemu-system-arm', ['-machine', 'mps2-an385', '-nographic', '-monitor', 'none', '-serial', 'stdio', '-semihosting', '-kernel', firmware!, '-device', `loader,file=${img},addr=0x21000000,force-raw=on`], { stdio: ['pipe', 'pipe', 'inherit'] });
    const state = { buf: '' };
    qemu.stdout!.setEncoding('latin1');
    qemu.stdout!.on('data', (d: string) => (state.buf += d));
    await until(qemu, state, />>> $/m, 30_000);
    qemu.stdin!.write('\r\x01');
    await until(qemu, state, /raw REPL; CTRL-B to exit\r\n>/, 10_000);
    qemu.stdin!.write(`${BOARD_CODE}\x04`);
    const reply = await until(qemu, state, /\x04>/, 60_000);
    const m = /RES(\[.*\])/.exec(reply);
    if (!m) throw new Error(`board did not answer: ${JSON.stringify(reply.slice(-500))}`);
    const onBoard = JSON.parse(m[1]!) as [string, number?, number?, string?][];
    const sha = (o: number, n: number) => createHash('sha256').update(built.bytes.subarray(o, o + n)).digest('hex');
    const expected = built.entries.map((e) => (e.type === 'dir' ? [e.path] : [e.path, e.size, e.offset, sha(e.offset, e.size)])).sort((a, b) => (a[0]! < b[0]! ? -1 : 1));
    expect(onBoard.sort((a, b) => (a[0] < b[0] ? -1 : 1))).toEqual(expected);
    const model = onBoard.find((e) => e[0] === 'model.tflite')!;
    expect(model[2]! % 16).toBe(0);
    expect(onBoard.some((e) => e[0] === 'lib/mylib/helpers.mpy')).toBe(true);
  }, 120_000);
});
