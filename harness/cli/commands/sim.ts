/**
 * `hil sim --profile P [--firmware-api released|master] [--link pty|tcp] [--port N] [--romfs FILE]
 * [--image IMG] [--fail-writes]`: start a simulated OpenMV cam (real MicroPython in WebAssembly,
 * with the firmware personality of the profile's board), print its connection string, and keep it
 * running until Ctrl-C / SIGTERM.
 */
import type { Argv, CommandModule } from 'yargs';
import { readFileSync, existsSync } from 'node:fs';
import { UsageError } from '../../errors.js';
import { startSim } from '../../sim/index.js';
import { FIRMWARE_APIS, type FirmwareApi } from '../../profile/profile.js';
import { inspectImage } from '../../romfs/inspect.js';
import { RomfsFormatError } from '../../romfs/errors.js';
import { checkInputFile } from '../validate.js';
import { scopeOf } from '../../lifecycle/scope.js';

interface SimArgs {
  profile: string;
  link: 'pty' | 'tcp';
  port?: number;
  romfs?: string;
  image?: string;
  failWrites: boolean;
  partitionSize?: number;
  firmwareApi?: FirmwareApi;
}

export const simCommand: CommandModule<object, SimArgs> = {
  command: 'sim',
  describe: 'Start a simulated OpenMV cam and print its connection string',
  builder: (y: Argv) =>
    y
      .option('profile', { alias: 'p', type: 'string', default: 'openmv-h7', describe: 'board profile to simulate (devices/profiles)' })
      .option('link', { choices: ['pty', 'tcp'] as const, default: 'pty' as const, describe: 'serial link: a pty path, or socket://127.0.0.1:PORT' })
      .option('port', { type: 'number', describe: 'TCP port for --link tcp (default: any free port)' })
      .option('romfs', { type: 'string', describe: 'file backing the ROMFS partition (kept across runs; created erased when missing)' })
      .option('image', { type: 'string', describe: 'ROMFS image to place in the partition before boot' })
      .option('partition-size', { type: 'number', describe: "override the profile's partition size in bytes" })
      .option('firmware-api', {
        choices: FIRMWARE_APIS,
        describe: "vfs.rom_ioctl API generation: released (every OpenMV release: commands 1-5, erase from the segment start) or master (ranged erase, command 6); default: the profile's",
      })
      .option('fail-writes', { type: 'boolean', default: false, describe: 'make vfs.rom_ioctl erase/write fail with -EIO (a board that cannot write)' })
      .example('$0 sim --profile openmv-h7', 'prints e.g. /tmp/hil-sim-abc123/tty; then: hil exec --device /tmp/hil-sim-abc123/tty "print(1)"')
      .epilog('The simulated board runs the real MicroPython interpreter; its `ml` module checks model placement and format but does not run networks, and says so.') as unknown as Argv<SimArgs>,
  handler: async (args) => {
    if (args.port !== undefined && args.link !== 'tcp') throw new UsageError(`--port ${args.port} needs --link tcp (the ${args.link} link has no port)`);
    let image: Uint8Array | undefined;
    if (args.image !== undefined) {
      if (!existsSync(args.image)) throw new UsageError(`${args.image}: no such image file`);
      checkInputFile('--image', args.image, 'image file');
      image = new Uint8Array(readFileSync(args.image));
      // A file that is not a ROMFS image is bad input (exit 2), found before the board boots.
      try {
        inspectImage(image);
      } catch (e) {
        if (e instanceof RomfsFormatError) throw new UsageError(`${args.image}: not a valid ROMFS image: ${e.message}`);
        throw e;
      }
    }
    const sim = await startSim({
      profile: args.profile, link: args.link, port: args.port, romfsFile: args.romfs, image,
      failWrites: args.failWrites, partitionSize: args.partitionSize, firmwareApi: args.firmwareApi, scope: scopeOf(args),
    });
    process.stdout.write(`${sim.connection}\n`);
    process.stderr.write(`hil: simulated ${sim.profile.name} running (${sim.profile.firmware.port} firmware, ${sim.firmwareApi} rom_ioctl API; partition file${sim.segmentFiles.length > 1 ? 's' : ''} ${sim.segmentFiles.join(', ')}); Ctrl-C to stop\n`);
    await new Promise<void>((resolve) => {
      // Ctrl-C, SIGTERM or SIGHUP (the CLI's scope aborts on each) stops the board.
      scopeOf(args).signal.addEventListener('abort', () => resolve(), { once: true });
    });
    await sim.stop();
  },
};
