/**
 * dfu: OpenMV IDE's own path (../shared/docs/firmware.md, "How OpenMV IDE flashes ROMFS"):
 * 1. the board's identity is read over the REPL first (probe: `machine.unique_id()`), which gives
 *    the serial number its bootloader will report;
 * 2. `machine.bootloader()` (the link drops, no answer comes);
 * 3. `dfu-util -w -d ,BOOT_VID:PID -a ALT -S SERIAL -D image.img` (the bootloader erases as it
 *    writes); Arduino's DFU bootloader takes a DfuSe address instead: `-a 1 -s 0x90B00000`;
 * 4. read back with `-U` (the OpenMV bootloader uploads the whole segment, then a short frame)
 *    and compared with the image, `--reset` (Arduino: the `:leave` modifier) so the application
 *    starts;
 * 5. the application's port is found again (the device reconnects by its connection: USB serial
 *    number with `id:`), the same `machine.unique_id()` must answer, and a machine.reset() boots
 *    it from the new segment. flashImage then hashes the segment on the board and checks the /rom listing, as
 *    for every strategy.
 * The RT1062's NXP ROM loader (SDP, then blhost) is not dfu-util and is out of scope.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DfuSpec } from '../../profile/profile.js';
import { InfraError, oneLine } from '../../errors.js';
import { execJson } from '../boardJson.js';
import { BoardRefusedError, FlashVerifyError } from '../errors.js';
import { flashProgram } from '../programs.js';
import { openmvBootloaderSerial } from '../dfu/bootloaderSerial.js';
import { lastLine, requireDfuUtil, runDfuUtil } from '../dfu/dfuUtil.js';
import type { StrategyTarget, WholeImageStrategy } from './types.js';

const hex4 = (n: number) => n.toString(16).padStart(4, '0');

/** Why the dfu strategy cannot flash segment `partition` of this board, or undefined. */
export function dfuWhyNot(dfu: DfuSpec | undefined, partition: number, facts: { bootloader?: boolean; uniqueId?: string | null }): string | undefined {
  if (!dfu) return 'the profile names no DFU bootloader';
  if (dfu.loader === 'nxp') return "this board's bootloader is NXP's ROM loader (SDP, then blhost), not DFU; hil does not drive it";
  if (dfu.alt?.[partition] === undefined) return `the profile names no DFU alt setting for segment ${partition}`;
  if (dfu.loader === 'arduino' && dfu.address === undefined) return 'the profile names no DfuSe address for the Arduino bootloader';
  if (!facts.bootloader) return 'the board has no machine.bootloader()';
  return undefined;
}

/** The dfu-util arguments of the download and the read-back. */
export function dfuArgs(dfu: DfuSpec, partition: number, serial: string | undefined, image: string, back: string, length: number): { download: string[]; upload: string[] } {
  const boot = dfu.bootloader!;
  const common = ['-w', '-d', `,${hex4(boot.vid)}:${hex4(boot.pid)}`, '-a', String(dfu.alt![partition]), ...(serial ? ['-S', serial] : [])];
  if (dfu.loader === 'arduino') {
    const addr = `0x${dfu.address!.toString(16).toUpperCase()}`;
    return {
      download: [...common, '-s', addr, '-D', image],
      upload: [...common, '-s', `${addr}:${length}:leave`, '-U', back],
    };
  }
  return { download: [...common, '-D', image], upload: [...common, '-U', back, '--reset'] };
}

function dfuDeadlineMs(length: number): number {
  // Up to 30 s for the bootloader to enumerate, then USB full speed with flash writes (>= 20 KB/s).
  return 30_000 + Math.ceil(length / 20_000) * 1000;
}

export const dfuStrategy: WholeImageStrategy = {
  kind: 'whole',
  name: 'dfu',
  async write(t: StrategyTarget, image: Uint8Array) {
    const dfu = t.device.profile.dfu!;
    const tool = requireDfuUtil();
    const uid = t.facts.uniqueId ?? null;
    const serial = dfu.loader === 'openmv' ? openmvBootloaderSerial(uid) : undefined;
    const boot = `${hex4(dfu.bootloader!.vid)}:${hex4(dfu.bootloader!.pid)}`;
    const who = `device ${t.device.name}: DFU bootloader ${boot}${serial ? ` serial ${serial}` : ''}`;
    const notes: string[] = [];
    const dir = await mkdtemp(join(tmpdir(), 'hil-dfu-'));
    try {
      const imgPath = join(dir, 'romfs.img');
      const backPath = join(dir, 'readback.img');
      await writeFile(imgPath, image);
      const args = dfuArgs(dfu, t.partition, serial, imgPath, backPath, image.length);

      t.progress.note(`entering the DFU bootloader (machine.bootloader()); then dfu-util -a ${dfu.alt![t.partition]}${serial ? ` -S ${serial}` : ''}`);
      try {
        const r = await t.device.execRaw(flashProgram('bootloader'), { timeoutMs: 3000 });
        if (/Traceback|Error/.test(r.stderr)) {
          throw new BoardRefusedError(`device ${t.device.name}: machine.bootloader() failed: ${oneLine(r.stderr.trim().split('\n').pop() ?? '')}; nothing was written`, 'bootloader');
        }
      } catch (e) {
        // The link drops as the board resets into its bootloader: that is the expected answer.
        if (!(e instanceof InfraError)) throw e;
      }

      const dl = await runDfuUtil(tool, args.download, dfuDeadlineMs(image.length), 'dfu download', who);
      if (dl.code !== 0) throw new InfraError(`${who}: dfu-util download failed (exit ${dl.code}): ${lastLine(dl)}`, 'dfu download');
      const ul = await runDfuUtil(tool, args.upload, dfuDeadlineMs(image.length), 'dfu upload', who);
      if (ul.code !== 0) throw new InfraError(`${who}: dfu-util read-back failed (exit ${ul.code}): ${lastLine(ul)}`, 'dfu upload');
      const back = new Uint8Array(await readFile(backPath));
      if (back.length < image.length) {
        throw new FlashVerifyError(`${who}: read back ${back.length} bytes with dfu-util -U, fewer than the image's ${image.length}`);
      }
      for (let i = 0; i < image.length; i++) {
        if (back[i] !== image[i]) throw new FlashVerifyError(`${who}: the segment read back with dfu-util -U differs from the image at offset ${i}`);
      }
      notes.push(`dfu-util wrote ${image.length} bytes to alt ${dfu.alt![t.partition]} and read them back identical (-U)`);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }

    // The application again, found by the device's connection (it reconnects by path or, with
    // `id:SERIAL`, by USB serial number); it must be the same board. One machine.reset() more so
    // the application boots from what the bootloader wrote, whenever the link came back (the
    // simulated board has no bootloader of its own: it restarted at once and must read its flash
    // again).
    const again = await execJson<{ uniqueId: string | null }>(t.device, flashProgram('unique_id'), 'reconnect', 20_000, true);
    if (uid && again.uniqueId !== uid) {
      throw new FlashVerifyError(`device ${t.device.name}: after DFU a different board answers (machine.unique_id ${again.uniqueId}, was ${uid})`);
    }
    notes.push(`the application answers again with machine.unique_id ${uid ?? '(none)'}`);
    await t.device.hardReset({ timeoutMs: 30_000 });
    return { notes };
  },
};
