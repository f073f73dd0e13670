/**
 * `hil flash <image.img | source-dir> --device D [--profile P] [--segment N] [--force]
 *  [--allow-misaligned] [--strategy auto|rom-ioctl|blockdev|dfu|ram|qemu-loader] [--json]`:
 * write a ROMFS image and prove it landed. `--json` says which strategy and why.
 * Prints one success line (or the JSON result on stdout with --json); errors go through main's
 * HilError mapping (2 bad input, 3 link, 4 verify mismatch, 5 board refused).
 */
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { UsageError } from '../../errors.js';
import { FlashInputError } from '../../flash/errors.js';
import { FLASH_STRATEGIES, type FlashStrategyName } from '../../profile/profile.js';
import { flashImage, type FlashResult } from '../../flash/flashImage.js';
import { checkImageBytes } from '../../flash/prepareImage.js';
import { firmwareFaultMessage } from '../../flash/preflight.js';
import { createProgress, formatBytes, formatRate, silentProgress } from '../../flash/progress.js';
import { resolveTargets } from '../../bench/targets.js';
import { noteDetectedProfile, profileJson } from '../profileNote.js';
import { checkNotEmpty, checkSerialIds } from '../validate.js';
import { takeBoard } from '../../bench/openTarget.js';
import { scopeOf } from '../../lifecycle/scope.js';
import { leaseOptionsOf, withLeaseFlags, type LeaseFlagArgs } from '../leaseFlags.js';

interface FlashArgs extends LeaseFlagArgs {
  target: string;
  device: string;
  profile?: string;
  segment: number;
  force: boolean;
  allowMisaligned: boolean;
  strategy?: string;
  json: boolean;
}

export function describeResult(r: FlashResult): string {
  if (r.skipped) return `${r.device}: segment ${r.partition} already holds ${r.image} (sha256 ${r.verifiedSha256.slice(0, 16)}…); nothing written (use --force to rewrite)`;
  const resumed = r.resumedFrom.length ? `, resumed ${r.resumedFrom.length}x after link faults` : '';
  return `${r.device}: flashed ${r.image} (${formatBytes(r.imageBytes)}) to segment ${r.partition} with ${r.strategy} (${r.strategyChoice?.how})${r.compressed ? ', deflate' : ''} in ${(r.elapsedMs / 1000).toFixed(1)} s (${formatRate(r.rate)}${resumed}); board sha256 ${r.verifiedSha256.slice(0, 16)}… matches${r.mountChecked ? ', /rom lists the image after soft reset' : ''}`;
}

export const flashCommand: CommandModule<object, FlashArgs> = {
  command: 'flash <target>',
  describe: 'Flash a ROMFS image (or a source directory, built first) to a board and verify it',
  builder: (y: Argv) =>
    withLeaseFlags(y, { waitDefault: 0 })
      .positional('target', { type: 'string', demandOption: true, describe: 'image file (.img) or source directory' })
      .option('device', { alias: 'd', type: 'string', demandOption: true, describe: 'inventory name or connection (/dev/ttyACM0, socket://host:port)' })
      .option('profile', { alias: 'p', type: 'string', describe: 'board profile name or YAML path (without it, chosen from what the board reports)' })
      .option('segment', { alias: 'partition', type: 'number', default: 0, describe: 'ROMFS segment number (rom_ioctl id; the AE3 has segment 1, MRAM)' })
      .option('force', { type: 'boolean', default: false, describe: 'write even if the board already holds this image' })
      .option('allow-misaligned', { type: 'boolean', default: false, describe: 'flash even if models are not aligned for the profile' })
      .option('strategy', { type: 'string', default: 'auto', choices: ['auto', ...FLASH_STRATEGIES], describe: 'how to write (auto: the first of the profile\'s flash.strategies the board can carry out)' })
      .option('json', { type: 'boolean', default: false, describe: 'print the result as JSON on stdout' }) as unknown as Argv<FlashArgs>,
  handler: async (args: ArgumentsCamelCase<FlashArgs>) => {
    checkNotEmpty('--device', args.device);
    if (!Number.isInteger(args.segment) || args.segment < 0) throw new UsageError(`--segment must be a non-negative integer (got ${args.segment})`);
    // Bad input is refused before any board is opened.
    if (!existsSync(args.target)) throw new FlashInputError(`${args.target}: no such image file or source directory`);
    // Same resolution as hil run: inventory name, sim[:profile], or a connection string + --profile.
    const { targets, leases } = resolveTargets({ device: args.device, profile: args.profile });
    await checkSerialIds(targets.map((t) => t.connection));
    // An image file is judged before any board is touched: malformed (exit 2), or one the
    // firmware would not read as written (a file record without data, ...).
    const prepared = statSync(args.target).isFile() ? checkImageBytes(new Uint8Array(readFileSync(args.target)), args.target) : undefined;
    if (prepared?.firmwareFault) throw new FlashInputError(firmwareFaultMessage(prepared, targets[0]!.name));
    // Under the board's lease (a running hil run keeps its board); released with the scope.
    const device = await takeBoard(targets[0]!, scopeOf(args), { what: `hil flash ${args.target}`, ...leaseOptionsOf(args, leases) });
    noteDetectedProfile(device);
    try {
      const result = await flashImage(device, {
        imagePath: args.target,
        prepared, // read and checked above: not parsed again
        partition: args.segment,
        force: args.force,
        allowMisaligned: args.allowMisaligned,
        strategy: (args.strategy ?? 'auto') as FlashStrategyName | 'auto',
        onProgress: args.json ? silentProgress : createProgress({ label: `flash ${device.name}` }),
      });
      if (args.json) process.stdout.write(`${JSON.stringify({ ...result, ...profileJson(device) })}\n`);
      else process.stdout.write(`${describeResult(result)}\n`);
    } finally {
      await device.close();
    }
  },
};
