/**
 * QEMU's pty is connected before the guest runs (harness/device/qemu.ts): a link opened after
 * the guest has booted still reads the boot banner, and its first bytes are answered by the
 * guest, not left until QEMU's once-a-second look at a pty nobody had open. Entering the raw
 * REPL of the board idle at its prompt takes one Ctrl-C (harness/repl/rawRepl.ts). Needs
 * HIL_QEMU_FIRMWARE (MicroPython's ports/qemu MPS2_AN385 firmware.elf); skipped with the reason
 * printed without it.
 */
import { closeSync, existsSync, openSync, readSync, constants as fsc } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { QemuBoard } from './qemu.js';
import { openDevice } from './openDevice.js';
import type { ReplDevice } from './replDevice.js';
import { loadProfile } from '../profile/profile.js';

const firmware = process.env.HIL_QEMU_FIRMWARE;
const have = !!firmware && existsSync(firmware);
if (!have) console.log(`qemuBoot.qemu.test: skipped: HIL_QEMU_FIRMWARE ${firmware ? `(${firmware}) does not exist` : 'is not set'}`);

/** What the pty gives within `ms` (polled, non-blocking reads). */
async function readFor(path: string, ms: number, until: RegExp): Promise<string> {
  const fd = openSync(path, fsc.O_RDWR | fsc.O_NOCTTY | fsc.O_NONBLOCK);
  const buf = Buffer.alloc(4096);
  let text = '';
  const end = Date.now() + ms;
  try {
    while (Date.now() < end && !until.test(text)) {
      try {
        const n = readSync(fd, buf, 0, buf.length, null);
        text += buf.subarray(0, n).toString('latin1');
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') throw e;
        await sleep(10);
      }
    }
  } finally {
    closeSync(fd);
  }
  return text;
}

(have ? describe : describe.skip)('QEMU board start (real MicroPython)', () => {
  it('keeps the boot banner for a link opened after the guest has booted', async () => {
    const q = await QemuBoard.start({ profile: loadProfile('qemu-mps2-an385'), firmware });
    try {
      // Open late on purpose: the guest has long printed its banner and sits at its prompt.
      // Before, QEMU had dropped the banner (no one had the pty open) and nothing came until
      // the link wrote and QEMU's poll timer fired; the 10 s bound here is only a deadline.
      await sleep(1500);
      const text = await readFor(q.ptyPath, 10_000, />>> $/);
      expect(text).toMatch(/^MicroPython v\S+ on .*mps2-an385/);
      expect(text).toMatch(/>>> $/);
    } finally {
      await q.stop();
    }
  }, 60_000);

  it('enters the raw REPL of the board idle at its prompt with one Ctrl-C, then Ctrl-A', async () => {
    // MicroPython answers each Ctrl-C at its friendly prompt with another prompt; taking that
    // as output still coming cost a Ctrl-C and a 60 ms quiet wait more, three times per connect.
    const d = (await openDevice({ connection: 'qemu', profile: 'qemu-mps2-an385', firmware })) as ReplDevice;
    try {
      const tx = d.transcript.records.filter((r) => r.dir === 'tx').map((r) => Buffer.from(r.data).toString('latin1'));
      expect(tx.join('').split('\x01')[0]).toBe('\r\x03');
      expect(await d.exec('print(6 * 7)')).toMatch(/^42\r?\n$/);
    } finally {
      await d.close();
    }
  }, 60_000);
});
