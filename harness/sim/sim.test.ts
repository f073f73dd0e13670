/**
 * The simulated board over a real pty (and TCP), driven byte by byte through `serialport` and a
 * minimal raw-REPL exchange written here, so these tests do not depend on hil's device layer.
 */
import { readFileSync } from 'node:fs';
import { execSync } from 'node:child_process';
import { createConnection, type Socket } from 'node:net';
import { startSim, type SimBoard } from './index.js';
import { RawLink as Link } from './rawLink.js';

const FIX = 'test/fixtures/romfs';
const manifest = JSON.parse(readFileSync(`${FIX}/manifest.json`, 'utf8'));
const flat = readFileSync(`${FIX}/openmv-flat.img`);
const demo = readFileSync(`${FIX}/demo.mpremote.img`);
const H7_ORIGIN = 0x081e0000;

const boards: SimBoard[] = [];
const links: Link[] = [];
async function board(opts: Parameters<typeof startSim>[0]): Promise<[SimBoard, Link]> {
  const b = await startSim(opts);
  boards.push(b);
  const l = b.connection.startsWith('socket://') ? await Link.tcp(b.connection) : await Link.serial(b.connection);
  links.push(l);
  await l.enterRaw();
  return [b, l];
}
afterEach(async () => {
  for (const l of links.splice(0)) await l.close();
  for (const b of boards.splice(0)) await b.stop();
});

describe('simulated board', () => {
  it('runs real MicroPython in the raw REPL: stdout and tracebacks apart (raw-paste: rawPaste.test.ts)', async () => {
    const [, l] = await board({ profile: 'openmv-h7' });
    expect(await l.exec('print(6 * 7)')).toEqual(['42\n', '']);
    const [out, err] = await l.exec('x = 1\n1/0');
    expect(out).toBe('');
    expect(err).toMatch(/ZeroDivisionError: divide by zero/);
    // A Ctrl-E doubled on the link (seen in the fault matrix) must not put the wasm REPL in
    // raw-paste, where it hangs for good: as on firmware, the raw REPL resets.
    l.send('\x05\x05A\x01');
    await l.until('raw REPL; CTRL-B to exit\r\n>');
    // The board's own _mpy (openmv-h7: .mpy 6.3, armv7emdp), as the firmware reports it, not the wasm port's 774.
    expect((await l.exec('print(sys.implementation._mpy if "sys" in dir() else __import__("sys").implementation._mpy)'))[0]).toBe('8966\n');
  });

  it('acknowledges code typed in plain raw mode before running it, even a busy loop that never yields', async () => {
    // micropython shared/runtime/pyexec.c (pyexec_raw_repl) writes OK before parse_compile_execute: the host sees it at once.
    const [, l] = await board({ profile: 'openmv-h7' });
    l.send('while True: pass\x04');
    expect((await l.until('OK', 10_000)).toString('latin1')).toBe('OK');
  });

  it('mounts the image at /rom with /rom and /rom/lib on sys.path, and imports from it', async () => {
    const [, l] = await board({ profile: 'openmv-h7', image: demo });
    const r = await l.json<{ top: string[]; path: string[]; file: string; flash: string }>(
      "import os, sys, mylib\nprint(json.dumps({'top': sorted(os.listdir('/rom')), 'path': sys.path, 'file': mylib.__file__, 'flash': 'x'}))",
    );
    expect(r.top).toEqual(['app', 'config.json', 'labels.txt', 'lib', 'model.tflite', 'templates']);
    expect(r.path.slice(0, 4)).toEqual(['', '.frozen', '/rom', '/rom/lib']);
    expect(r.file).toBe('/rom/lib/mylib/__init__.py');
  });

  it('gives /rom files their flash address (origin + data offset) and views of flash', async () => {
    const [, l] = await board({ profile: 'openmv-h7', partitionSize: 1 << 20, image: flat });
    const files = manifest['openmv-flat.img'].entries.filter((e: { type: string }) => e.type === 'file');
    const code = `import uctypes, vfs, hashlib, binascii\nout = {}\nfor p in ${JSON.stringify(files.map((f: { path: string }) => f.path))}:\n    f = open('/rom/' + p, 'rb')\n    out[p] = [uctypes.addressof(f), binascii.hexlify(hashlib.sha256(memoryview(f)).digest()).decode()]\n    f.close()\nout['origin'] = uctypes.addressof(vfs.rom_ioctl(2, 0))\ntry:\n    memoryview(open('/rom/config.json'))\n    out['text'] = 'buffer'\nexcept TypeError:\n    out['text'] = 'TypeError'\nprint(json.dumps(out))`;
    const r = await l.json<Record<string, [number, string] | number | string>>(code);
    expect(r.origin).toBe(H7_ORIGIN);
    for (const f of files) expect(r[f.path]).toEqual([H7_ORIGIN + f.offset, f.sha256]);
    expect(r.text).toBe('TypeError');
  });

  it('erases and writes through vfs.rom_ioctl (released API) from bytes read off the serial line, then a soft reset mounts the new image', async () => {
    const [b, l] = await board({ profile: 'openmv-h7', image: demo });
    const img = readFileSync(`${FIX}/micropython-random.img`);
    const padded = Buffer.alloc(Math.ceil(img.length / 32) * 32, 0xff);
    img.copy(padded);
    const code = `import vfs, sys, micropython\nmicropython.kbd_intr(-1)\nmw = vfs.rom_ioctl(3, 0, ${padded.length})\nbuf = bytearray(4096)\noff = 0\nres = []\nwhile off < ${padded.length}:\n    n = min(4096, ${padded.length} - off)\n    mv = memoryview(buf)[:n]\n    sys.stdin.buffer.readinto(mv)\n    res.append(vfs.rom_ioctl(4, 0, off, mv))\n    off += n\nmicropython.kbd_intr(3)\nprint(mw, vfs.rom_ioctl(6, 0), set(res), vfs.rom_ioctl(5, 0))`;
    const [out, err] = await l.exec(code, padded);
    expect(err).toBe('');
    // released firmware: min write 16 (the H7), no command 6, command 5 not implemented
    expect(out.trim()).toBe('16 -22 {0} -22');
    expect(Buffer.from(b.readPartition().subarray(0, img.length)).equals(img)).toBe(true);
    l.send('\x04');
    await l.until('soft reboot\r\n');
    await l.until('raw REPL; CTRL-B to exit\r\n>');
    const names = await l.json<string[]>("import os\nprint(json.dumps(sorted(os.listdir('/rom'))))");
    expect(names).toContain('romfs_sentinel.txt');
  });

  it('refuses bad ranges with -22, a misaligned H7 write with -5, and a board that cannot write answers -5', async () => {
    const [b, l] = await board({ profile: 'openmv-h7', image: demo });
    expect(await l.json("import vfs\nprint(json.dumps([vfs.rom_ioctl(3, 0, 1 << 20), vfs.rom_ioctl(4, 0, 3, b'abcd'), vfs.rom_ioctl(2, 7), vfs.rom_ioctl(1)]))")).toEqual([-22, -5, -22, 1]);
    await b.setFailWrites(true);
    expect(await l.json("import vfs\nprint(json.dumps([vfs.rom_ioctl(3, 0, 4096), vfs.rom_ioctl(4, 0, 0, bytes(32))]))")).toEqual([-5, -5]);
    expect(Buffer.from(b.readPartition().subarray(0, demo.length)).equals(demo)).toBe(true);
  });

  it('answers only rom_ioctl 1 and 2 for a RAM partition (the qemu port), writable through uctypes.bytearray_at', async () => {
    const [, l] = await board({ profile: 'qemu-mps2-an385', image: demo });
    const r = await l.json<number[]>("import vfs, uctypes\nba = uctypes.bytearray_at(0x21000000, 4)\nba[0:1] = b'Z'\nprint(json.dumps([vfs.rom_ioctl(1), vfs.rom_ioctl(3, 0, 4096), vfs.rom_ioctl(6, 0), vfs.rom_ioctl(2, 0)[0]]))");
    expect(r).toEqual([1, -22, -22, 0x5a]);
  });

  it('runs the first inference only in simulation: aligned model predicts; not 4-aligned with per-channel convolutions, the board HardFaults and (with pyb.fault_debug on) stays dead', async () => {
    const [, l] = await board({ profile: 'openmv-h7', partitionSize: 1 << 20, image: flat });
    const r = await l.json<{ s: string; sim: boolean; in: number[][]; out: number[][] }>(
      "import ml\nm = ml.Model('/rom/person_detect.tflite')\nr = m.predict([lambda b, s, d: None])\nprint(json.dumps({'s': str(m), 'sim': m.simulated, 'in': m.input_shape, 'out': [list(o.shape) for o in r]}))",
    );
    expect(r.sim).toBe(true);
    expect(r.s).toMatch(/simulated: placement and format checked, network not run/);
    expect(r.in).toEqual([[1, 96, 96, 1]]);
    expect(r.out).toEqual([[1, 2]]);
    await l.close();
    links.pop();
    await boards.pop()!.stop();
    // model.tflite at offset 482: 2 mod 4; fault debugging on, as pyb.fault_debug(True) (stm32_it.c)
    const [b2, l2] = await board({ profile: 'openmv-h7', image: demo, faultDebug: true });
    l2.send("import ml\nm = ml.Model('/rom/model.tflite')\x04");
    expect((await l2.until('CFSR  01000000\r\n')).toString()).toMatch(/HardFault\r\nR0    081e01e2\r\n/);
    // dead: Ctrl-C and a new raw REPL get nothing, until the board is power-cycled
    l2.send('\x03\x03\x01');
    await expect(l2.until('raw REPL', 1500)).rejects.toThrow();
    await l2.close();
    links.pop();
    await b2.powerCycle();
    await new Promise((r) => setTimeout(r, 1000)); // the link comes back after the reset delay
    const l3 = await Link.serial(b2.connection);
    links.push(l3);
    await l3.enterRaw();
    expect(await l3.exec('print("back")')).toEqual(['back\n', '']);
  });

  it("without fault debugging (stm32's default) the same model resets the board at once, printing nothing (ports/stm32/stm32_it.c)", async () => {
    const [b, l] = await board({ profile: 'openmv-h7', image: demo });
    expect(await l.exec('kept = 1')).toEqual(['', '']);
    l.send("import ml\nprint('before')\nm = ml.Model('/rom/model.tflite')\x04");
    await l.until('before\n');
    await new Promise((r) => setTimeout(r, 1000)); // the link comes back after the reset delay
    expect(l.drain().toString('latin1')).not.toMatch(/HardFault/); // no fault dump
    await l.close();
    links.pop();
    const l2 = await Link.serial(b.connection);
    links.push(l2);
    await l2.enterRaw();
    // a fresh interpreter: the board rebooted
    expect(await l2.exec("print('kept' in globals())")).toEqual(['False\n', '']);
  });

  it('stops a running main.py on Ctrl-C so the host can enter the raw REPL', async () => {
    const [, l] = await board({ profile: 'openmv-h7', mainPy: 'import time\nwhile True:\n    print("frame")\n    time.sleep_ms(50)\n' });
    expect(await l.exec('print("in raw")')).toEqual(['in raw\n', '']);
  });

  it('drops the link on machine.reset() and brings it back under the same name', async () => {
    const [b, l] = await board({ profile: 'openmv-h7', image: demo, link: 'tcp' });
    l.send('import machine\nmachine.reset()\x04');
    // The board may be gone before its OK is relayed: do not wait for it.
    await new Promise((r) => setTimeout(r, 1000));
    await l.close();
    links.pop();
    const l2 = await Link.tcp(b.connection);
    links.push(l2);
    await l2.enterRaw();
    expect((await l2.exec("import os\nprint(len(os.listdir('/rom')))"))[0]).toBe('6\n');
  });

  // What the board printed before machine.reset() reaches the host before the link goes: the
  // supervisor acted on the board's 'exit' (its stdout not yet drained) and killed socat (or
  // destroyed the socket) with bytes still in it, so the end of an output was lost (a flake of
  // the HardFault test above). The host takes nothing while the board prints and resets, so
  // the output waits between them, as it does on a loaded machine: without the fix it is lost
  // (TCP: more than the loopback socket's buffers hold, 8 MB; the pty holds far less).
  it.each(['pty', 'tcp'] as const)('delivers everything printed before machine.reset() (%s link)', async (link) => {
    const [, l] = await board({ profile: 'openmv-h7', link });
    const n = link === 'tcp' ? 8_000_000 : 300_000;
    l.send(`import sys, machine\nsys.stdout.write('x' * ${n})\nprint('END')\nmachine.reset()\x04`);
    l.pause();
    await new Promise((r) => setTimeout(r, 1000)); // the board prints, resets and is gone
    l.resume();
    const got = await l.until('END\n', 15000);
    expect(got.toString('latin1').split('x').length - 1).toBe(n);
  });

  // The old TCP connection is ended, not destroyed, after a reset (so its last bytes arrive): what
  // a host still sends on it (one that keeps its side open after the end, as a Python socket
  // does) must not reach the board that came back.
  it('gives the board that came back nothing the host sent on the connection of the board before', async () => {
    const b = await startSim({ profile: 'openmv-h7', link: 'tcp' });
    boards.push(b);
    const [host, port] = b.connection.replace('socket://', '').split(':');
    const sock = await new Promise<Socket>((res, rej) => {
      const s = createConnection({ host, port: Number(port), allowHalfOpen: true }, () => res(s));
      s.on('error', rej);
    });
    sock.on('data', () => undefined);
    sock.write('\r\x03\x03\x01import machine\nmachine.reset()\x04');
    await new Promise((r) => setTimeout(r, 1500)); // the new board is up
    sock.write('\r\x03\x03\x01marker = 1\x04');
    await new Promise((r) => setTimeout(r, 300));
    sock.destroy();
    const l2 = await Link.tcp(b.connection);
    links.push(l2);
    // Into the raw REPL once the board answers (on a loaded machine it may still be booting).
    for (let i = 0; ; i++) {
      l2.send('\r\x03\x03\x01');
      const up = await l2.until('raw REPL; CTRL-B to exit\r\n>', 1000).then(() => true, () => false);
      if (up) break;
      if (i === 20) throw new Error('the board did not come back');
    }
    expect(await l2.exec("print('marker' in globals())")).toEqual(['False\n', '']);
  });

  it('leaves no socat behind when stopped while a reset link still hands over its last bytes', async () => {
    const [b, l] = await board({ profile: 'openmv-h7' });
    l.send(`import sys, machine\nsys.stdout.write('x' * 300000)\nmachine.reset()\x04`);
    l.pause(); // the pty fills: the old link's socat waits for the host to take the rest
    await new Promise((r) => setTimeout(r, 1000));
    await b.stop();
    boards.pop();
    const ps = execSync('ps -eo args').toString();
    expect(ps).not.toContain(b.workDir);
  });

  it('leaves no processes behind when stopped', async () => {
    const b = await startSim({ profile: 'openmv-h7' });
    await b.stop();
    const ps = execSync('ps -eo args').toString();
    expect(ps).not.toContain(b.workDir);
  });
});
