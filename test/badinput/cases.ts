/**
 * The bad input catalogue: every bad input tried against the built CLI, with the exit code and
 * the one-line error it must give. badinput.test.ts runs each case (spawning `node bin/hil.js`)
 * and checks that the README's "Bad input catalogue" table is exactly `catalogueTable()`, so the
 * README cannot drift from what the tests prove. `$T` (in args and env) is a fresh temp folder
 * holding the files made in the test's beforeAll and by a case's `prepare`.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startSim } from '../../harness/sim/index.js';
import { deniedPortUnavailable, holdPort, makePty, NOBODY, nobodyUnavailable, ptyUnavailable, tripwire } from './ports.js';

export interface CaseContext {
  /** The temp folder `$T`. */
  T: string;
  /** The repository (the CLI's working directory). */
  root: string;
}

/** What a case's `prepare` arranged: how to run the CLI for it, and how to undo it. */
export interface Prepared {
  /** Run the CLI as this user and group (a root test process dropping its privileges). */
  uid?: number;
  gid?: number;
  release?: () => Promise<void>;
  /** Placeholders in the case's args and their values (e.g. `$BOARD`: a tripwire's connection). */
  vars?: Record<string, string>;
}

/** The device is a tripwire (a board that must not be reached): released, it fails the case if it was. */
async function untouchedBoard(): Promise<Prepared> {
  const t = await tripwire();
  return { vars: { $BOARD: t.connection }, release: t.check };
}

export interface BadInputCase {
  input: string;
  args: string[];
  exit: number;
  /** Regex the single stderr line must match (after `hil: `). */
  error: RegExp;
  env?: Record<string, string>;
  /** The line shown in the README (a shortened, stable form of the error). */
  shown: string;
  /** Why this case cannot be arranged on this machine (the test prints it and skips), or null. */
  unavailable?: (ctx: Omit<CaseContext, 'T'>) => string | null;
  /** Makes what the case needs in `$T` before the CLI runs; released after the checks. */
  prepare?: (ctx: CaseContext) => Promise<Prepared>;
}

/** A simulated board of `profile` whose pty is `$T/DIR/tty` (stopped on release). */
async function simIn(T: string, dir: string, profile: string): Promise<Prepared> {
  const workDir = join(T, dir);
  if (!existsSync(workDir)) mkdirSync(workDir);
  const sim = await startSim({ profile, workDir });
  return { release: () => sim.stop() };
}

export const CASES: BadInputCase[] = [
  { input: 'missing image file', args: ['image', 'verify', '$T/none.img', '--profile', 'openmv-h7'], exit: 2, error: /none\.img: cannot read image \(ENOENT\)/, shown: '`FILE: cannot read image (ENOENT)`' },
  { input: 'unknown firmware version for the model checks', args: ['image', 'verify', 'test/fixtures/romfs/openmv-flat.img', '--profile', 'openmv-h7', '--firmware', 'v9.9'], exit: 2, error: /^hil: --firmware v9\.9: no op table for that version \(known: v4\.7\.0, /, shown: '`--firmware v9.9: no op table for that version (known: v4.7.0, ...)`' },
  { input: 'image path is a folder', args: ['image', 'inspect', '$T'], exit: 2, error: /: not a file$/, shown: '`DIR: not a file`' },
  { input: 'missing image for flash', args: ['flash', '$T/none.img', '--device', 'sim', '--profile', 'openmv-h7'], exit: 2, error: /none\.img: no such image file or source directory/, shown: '`FILE: no such image file or source directory`' },
  { input: 'corrupt image (no magic) for flash', args: ['flash', '$T/bad.img', '--device', 'sim', '--profile', 'openmv-h7'], exit: 2, error: /bad\.img: not a valid ROMFS image: bad header/, shown: '`image FILE: not a valid ROMFS image: bad header: expected ROMFS magic d2 cd 31 (at byte 0)`' },
  { input: 'truncated image for flash', args: ['flash', '$T/trunc.img', '--device', 'sim', '--profile', 'openmv-h7'], exit: 2, error: /trunc\.img: not a valid ROMFS image/, shown: '`image FILE: not a valid ROMFS image: ... (at byte N)`' },
  { input: 'image the firmware would not read as written (a file without data) for flash', args: ['flash', 'test/fixtures/romfs/corpus/0217-nodata-file-alone.img', '--device', '$BOARD', '--profile', 'openmv-h7'], exit: 2, error: /0217-nodata-file-alone\.img for device .*: the firmware would not read this image as written: file 'only' has no data record/, shown: "`image FILE for device BOARD: the firmware would not read this image as written: file 'only' has no data record: ...`", prepare: untouchedBoard },
  { input: 'image larger than the partition', args: ['flash', 'test/fixtures/romfs/openmv-flat.img', '--device', 'sim', '--profile', 'openmv-h7'], exit: 2, error: /larger than partition 0 \(131072 bytes as the board reports it\)/, shown: '`image FILE for device sim: image is N bytes, larger than partition 0 (M bytes as the board reports it)`' },
  { input: 'model misaligned for the profile', args: ['flash', 'test/fixtures/romfs/demo.mpremote.img', '--device', 'sim', '--profile', 'openmv-n6'], exit: 2, error: /model 'model\.tflite' data at offset 482 .* not 32-byte aligned/, shown: "`... model 'model.tflite' data at offset 482 (address 0x708001e2) is not 32-byte aligned as profile openmv-n6 requires; ...`" },
  { input: 'unknown profile name', args: ['image', 'build', 'images/demo', '--profile', 'nope', '--output', '$T/o.img'], exit: 2, error: /unknown profile 'nope' \(known: /, shown: "`unknown profile 'nope' (known: ...)`" },
  { input: 'malformed YAML profile', args: ['image', 'build', 'images/demo', '--profile', '$T/bad.yaml', '--output', '$T/o.img'], exit: 2, error: /bad\.yaml: not valid YAML/, shown: '`FILE: not valid YAML: ... (line:col)`' },
  { input: 'malformed JSON romfs_config', args: ['image', 'build', '--config', '$T/bad.json', '--profile', 'openmv-h7', '--output', '$T/o.img'], exit: 2, error: /bad\.json: not valid JSON/, shown: '`FILE: not valid JSON: ...`' },
  { input: 'malformed YAML bench file', args: ['run', 'scenarios/model-load', '--bench', '$T/bad.yaml'], exit: 2, error: /bad\.yaml: not valid YAML/, shown: '`FILE: not valid YAML: ...`' },
  { input: 'unknown scenario', args: ['run', 'scenarios/nope'], exit: 2, error: /scenario 'scenarios\/nope' not found/, shown: "`scenario 'scenarios/nope' not found (looked in ...)`" },
  { input: 'nonexistent serial port', args: ['exec', 'pass', '--device', '/dev/ttyNOPE', '--profile', 'openmv-h7'], exit: 2, error: /\/dev\/ttyNOPE: no such serial port/, shown: '`/dev/ttyNOPE: no such serial port`' },
  { input: 'QEMU without a profile', args: ['exec', 'pass', '--device', 'qemu'], exit: 2, error: /^hil: device qemu: give --profile \(hil must know which machine to start: a qemu-\* profile\)$/, shown: '`device qemu: give --profile (hil must know which machine to start: a qemu-* profile)`' },
  { input: 'a board the profile does not fit (an RT1062 run as an H7)', args: ['exec', 'pass', '--device', '$T/rt1062/tty', '--profile', 'openmv-h7'], exit: 2, error: /rt1062\/tty: profile openmv-h7 does not fit this board: it reports platform mimxrt, machine 'OpenMV IMXRT1060 with MIMXRT1062DVJ6A', ROMFS0 0x60800000 8 MiB, but openmv-h7 expects platform OpenMV4-H7, machine 'OPENMV4 with STM32H743', ROMFS0 0x081e0000 128 KiB; the board matches openmv-rt1062; nothing was written$/, shown: "`CONN: profile openmv-h7 does not fit this board: it reports platform mimxrt, machine 'OpenMV IMXRT1060 with MIMXRT1062DVJ6A', ROMFS0 0x60800000 8 MiB, but openmv-h7 expects ...; the board matches openmv-rt1062; nothing was written`", unavailable: ptyUnavailable, prepare: async ({ T }) => simIn(T, 'rt1062', 'openmv-rt1062') },
  { input: 'a board the profile does not fit, flashing (an AN500 run as AN385)', args: ['flash', 'images/demo', '--device', '$T/an500/tty', '--profile', 'qemu-mps2-an385'], exit: 2, error: /an500\/tty: profile qemu-mps2-an385 does not fit this board: it reports platform qemu, machine 'mps2-an500 with Cortex-M7', ROMFS0 0x60c00000 4 MiB, but qemu-mps2-an385 expects .*; the board matches qemu-mps2-an500; nothing was written$/, shown: "`CONN: profile qemu-mps2-an385 does not fit this board: it reports platform qemu, machine 'mps2-an500 with Cortex-M7', ROMFS0 0x60c00000 4 MiB, but qemu-mps2-an385 expects ...; the board matches qemu-mps2-an500; nothing was written`", unavailable: ptyUnavailable, prepare: async ({ T }) => simIn(T, 'an500', 'qemu-mps2-an500') },
  { input: 'a board no profile matches (connection string alone)', args: ['exec', 'pass', '--device', '$T/mycam/tty'], exit: 2, error: /mycam\/tty: no profile matches the board: it reports platform MyCam-H7, machine 'MYCAM with STM32H743', ROMFS0 0x081e0000 128 KiB \(known: arduino-giga, .*\); give --profile with a profile file for this board$/, shown: "`CONN: no profile matches the board: it reports platform MyCam-H7, machine 'MYCAM with STM32H743', ROMFS0 0x081e0000 128 KiB (known: ...); give --profile with a profile file for this board`", unavailable: ptyUnavailable, prepare: async ({ T, root }) => {
    // A board of a kind hil has no profile for: the simulated board, told by a profile file of
    // its own to report another platform and machine.
    const yaml = readFileSync(join(root, 'devices/profiles/openmv-h7.yaml'), 'utf8').replace(/^name: .*$/m, 'name: my-cam')
      .replace(/^identify: .*$/m, 'identify: { platform: "MyCam-H7", machine: "MYCAM with STM32H743", origin: 0x081E0000, size: 0x20000 }');
    mkdirSync(join(T, 'mycam'));
    writeFileSync(join(T, 'mycam', 'my-cam.yaml'), yaml);
    return simIn(T, 'mycam', join(T, 'mycam', 'my-cam.yaml'));
  } },
  { input: 'QEMU with a non-QEMU profile', args: ['exec', 'pass', '--device', 'qemu', '--profile', 'openmv-h7'], exit: 2, error: /profile openmv-h7 is not a QEMU board/, shown: '`profile openmv-h7 is not a QEMU board (no qemu.machine); use a qemu-* profile`' },
  { input: 'QEMU firmware not set', args: ['exec', 'pass', '--device', 'qemu', '--profile', 'qemu-mps2-an385'], env: { HIL_QEMU_FIRMWARE: '' }, exit: 2, error: /no QEMU firmware: set HIL_QEMU_FIRMWARE/, shown: '`no QEMU firmware: set HIL_QEMU_FIRMWARE to a firmware.elf built from MicroPython ports/qemu (...)`' },
  { input: 'QEMU firmware file missing', args: ['exec', 'pass', '--device', 'qemu', '--profile', 'qemu-mps2-an385'], env: { HIL_QEMU_FIRMWARE: '/nonexistent/firmware.elf' }, exit: 2, error: /\/nonexistent\/firmware\.elf: QEMU firmware file not found/, shown: '`FILE: QEMU firmware file not found`' },
  { input: 'a regular file given as the serial port', args: ['exec', 'pass', '--device', '/etc/hostname', '--profile', 'openmv-h7'], exit: 2, error: /\/etc\/hostname: not a serial port/, shown: '`FILE: not a serial port (not a character device)`' },
  { input: 'TCP port with nothing listening', args: ['exec', 'pass', '--device', 'socket://127.0.0.1:1', '--profile', 'openmv-h7'], exit: 3, error: /socket:\/\/127\.0\.0\.1:1: connection refused \(nothing listens there\) \[phase: connect\]$/, shown: '`socket://127.0.0.1:1: connection refused (nothing listens there) [phase: connect]`' },
  { input: 'RFC 2217 port with nothing listening', args: ['exec', 'pass', '--device', 'rfc2217://127.0.0.1:1', '--profile', 'openmv-h7'], exit: 3, error: /rfc2217:\/\/127\.0\.0\.1:1: connection refused \(nothing listens there\) \[phase: connect\]$/, shown: '`rfc2217://127.0.0.1:1: connection refused (nothing listens there) [phase: connect]`' },
  { input: 'rfc2217:// without a port', args: ['exec', 'pass', '--device', 'rfc2217://cam-host', '--profile', 'openmv-h7'], exit: 2, error: /connection 'rfc2217:\/\/cam-host': expected rfc2217:\/\/HOST:PORT$/, shown: "`connection 'rfc2217://cam-host': expected rfc2217://HOST:PORT`" },
  { input: 'serial port held by another program', args: ['exec', 'pass', '--device', '$T/ttyBUSY', '--profile', 'openmv-h7'], exit: 3, error: /ttyBUSY: serial port is busy \(another program holds it: close the IDE, mpremote or screen\) \[phase: connect\]$/, shown: '`PORT: serial port is busy (another program holds it: close the IDE, mpremote or screen) [phase: connect]`', unavailable: ptyUnavailable, prepare: async ({ T, root }) => {
    // A real pty, held by a second process with the exclusive lock a second hil or mpremote takes.
    const pty = await makePty(T, 'ttyBUSY');
    const holder = await holdPort(pty.path, root).catch(async (e) => {
      await pty.stop();
      throw e;
    });
    return { release: async () => { await holder.release(); await pty.stop(); } };
  } },
  { input: 'serial port the user may not open', args: ['exec', 'pass', '--device', '$T/ttyPERM', '--profile', 'openmv-h7'], exit: 2, error: /ttyPERM: permission denied opening the serial port \(add your user to the dialout group\)$/, shown: '`PORT: permission denied opening the serial port (add your user to the dialout group)`', unavailable: ({ root }) => deniedPortUnavailable(root), prepare: async ({ T }) => {
    const asRoot = process.getuid?.() === 0;
    // Root ignores file modes: the CLI runs as nobody, who must reach the link (mkdtemp made $T 0700).
    if (asRoot) chmodSync(T, 0o755);
    const pty = await makePty(T, 'ttyPERM');
    // Like /dev/ttyACM0 (root:dialout 0660) for a user outside dialout: root's own 0600 pty
    // denies nobody; mode 000 denies a non-root owner.
    chmodSync(pty.device, asRoot ? 0o600 : 0o000);
    return { ...(asRoot ? NOBODY : {}), release: pty.stop };
  } },
  { input: 'qemu-system-arm not on PATH', args: ['exec', 'pass', '--device', 'qemu', '--profile', 'qemu-mps2-an385'], env: { HIL_QEMU_FIRMWARE: '$T/firmware.elf', PATH: '$T/bin' }, exit: 2, error: /^hil: qemu-system-arm: not found on PATH \(install it: apt-get install qemu-system-arm\)$/, shown: '`qemu-system-arm: not found on PATH (install it: apt-get install qemu-system-arm)`' },
  // Errors before work (issue 12): refused with one line before any board is touched. `$BOARD`
  // is a listener that fails the case if the CLI connects to it.
  { input: '--junit is a folder', args: ['run', 'model-load', '--device', '$BOARD', '--profile', 'openmv-h7', '--junit', '$T'], exit: 2, error: /^hil: --junit \S+: is a folder, not a file$/, shown: '`--junit DIR: is a folder, not a file`', prepare: untouchedBoard },
  { input: '--json under a file', args: ['run', 'model-load', '--device', '$BOARD', '--profile', 'openmv-h7', '--json', '/dev/null/run.json'], exit: 2, error: /^hil: --json \/dev\/null\/run\.json: parent \/dev\/null is not a folder$/, shown: '`--json /dev/null/run.json: parent /dev/null is not a folder`', prepare: untouchedBoard },
  { input: '--out is a file', args: ['run', 'model-load', '--device', '$BOARD', '--profile', 'openmv-h7', '--out', '$T/bad.img'], exit: 2, error: /^hil: --out \S+bad\.img: exists and is not a folder$/, shown: '`--out FILE: exists and is not a folder`', prepare: untouchedBoard },
  { input: '--junit in a folder the user may not write', args: ['run', 'model-load', '--device', '$BOARD', '--profile', 'openmv-h7', '--junit', '$T/ro/reports/junit.xml'], exit: 2, error: /^hil: --junit \S+junit\.xml: folder \S+\/ro is not writable by this user$/, shown: '`--junit FILE: folder DIR is not writable by this user`', unavailable: ({ root }) => nobodyUnavailable(root), prepare: async ({ T }) => {
    const asRoot = process.getuid?.() === 0;
    if (asRoot) chmodSync(T, 0o755);
    mkdirSync(join(T, 'ro'), { recursive: true });
    chmodSync(join(T, 'ro'), 0o555);
    return { ...(asRoot ? NOBODY : {}), ...(await untouchedBoard()) };
  } },
  { input: '--transcript under a file', args: ['exec', 'pass', '--device', '$BOARD', '--profile', 'openmv-h7', '--transcript', '/dev/null/x'], exit: 2, error: /^hil: --transcript \/dev\/null\/x: parent \/dev\/null is not a folder$/, shown: '`--transcript /dev/null/x: parent /dev/null is not a folder`', prepare: untouchedBoard },
  { input: 'image build -o a folder', args: ['image', 'build', 'images/demo', '--profile', 'openmv-h7', '-o', '$T'], exit: 2, error: /^hil: --output \S+: is a folder, not a file$/, shown: '`--output DIR: is a folder, not a file`' },
  { input: 'empty --device (unset variable)', args: ['run', 'model-load', '--device', ''], exit: 2, error: /^hil: --device is empty \(an unset variable\?\): name a device or leave the flag out$/, shown: '`--device is empty (an unset variable?): name a device or leave the flag out`' },
  { input: 'empty --bench', args: ['run', 'model-load', '--bench', ''], exit: 2, error: /^hil: --bench is empty/, shown: '`--bench is empty (an unset variable?): ...`' },
  { input: 'empty --device for exec', args: ['exec', 'pass', '--device', ''], exit: 2, error: /^hil: --device is empty/, shown: '`--device is empty (an unset variable?): ...`' },
  { input: 'empty code for exec', args: ['exec', '', '--device', '$BOARD', '--profile', 'openmv-h7'], exit: 2, error: /^hil: nothing to run: the code argument is empty \(nothing was sent to the board\)$/, shown: '`nothing to run: the code argument is empty (nothing was sent to the board)`', prepare: untouchedBoard },
  { input: 'exec - with empty stdin', args: ['exec', '-', '--device', '$BOARD', '--profile', 'openmv-h7'], exit: 2, error: /^hil: nothing to run: stdin is empty \(nothing was sent to the board\)$/, shown: '`nothing to run: stdin is empty (nothing was sent to the board)`', prepare: untouchedBoard },
  { input: 'USB serial number no port has', args: ['exec', 'pass', '--device', 'id:NOPE0000', '--profile', 'openmv-h7'], exit: 2, error: /^hil: id:NOPE0000: no serial port has USB serial number NOPE0000 \(ports seen: .+\)$/, shown: '`id:NOPE0000: no serial port has USB serial number NOPE0000 (ports seen: PORT (id:SERIAL), ... or none)`' },
  { input: 'negative --timeout', args: ['exec', 'pass', '--device', '$BOARD', '--profile', 'openmv-h7', '--timeout', '-1'], exit: 2, error: /^hil: --timeout must be a number of seconds above 0 \(got -1\)$/, shown: '`--timeout must be a number of seconds above 0 (got -1)`', prepare: untouchedBoard },
  { input: 'missing --inventory file', args: ['devices', '--inventory', '$T/none.yaml'], exit: 2, error: /^hil: --inventory \S+none\.yaml: no such inventory file$/, shown: '`--inventory FILE: no such inventory file`' },
  { input: 'unknown key in a bench file', args: ['run', 'model-load', '--bench', '$T/typo-bench.yaml'], exit: 2, error: /typo-bench\.yaml: field 'devices\.cam\.readyTimeout' is not a known field \(known: profile, connection, /, shown: "`FILE: field 'devices.cam.readyTimeout' is not a known field (known: profile, connection, ...)`" },
  { input: 'unknown key in a scenario file', args: ['run', '$T/typo-scenario', '--device', '$BOARD', '--profile', 'openmv-h7'], exit: 2, error: /typo-scenario\/scenario\.yaml: .*flsh.* is not a known field/, shown: "`FILE: field 'flsh' is not a known field (known: ...)`", prepare: untouchedBoard },
  { input: 'custom check module that does not exist', args: ['run', '$T/nomodule-scenario', '--device', '$BOARD', '--profile', 'openmv-h7'], exit: 2, error: /nomodule-scenario\/scenario\.yaml: field 'checks\[1\]\.module' names .*my_check\.ts, which does not exist/, shown: "`FILE: field 'checks[1].module' names PATH, which does not exist`", prepare: untouchedBoard },
  { input: 'conflicting --device and --bench', args: ['run', 'model-load', '--device', '$BOARD', '--bench', 'devices/bench.example.yaml'], exit: 2, error: /^hil: give --device or --bench, not both$/, shown: '`give --device or --bench, not both`', prepare: untouchedBoard },
  { input: 'sim --port without --link tcp', args: ['sim', '--port', '5999'], exit: 2, error: /^hil: --port 5999 needs --link tcp \(the pty link has no port\)$/, shown: '`--port 5999 needs --link tcp (the pty link has no port)`' },
  { input: 'sim --image not a ROMFS image', args: ['sim', '--image', '$T/bad.img'], exit: 2, error: /bad\.img: not a valid ROMFS image: bad header/, shown: '`FILE: not a valid ROMFS image: bad header: ...`' },
];

export function catalogueTable(): string {
  const rows = ['| bad input | command | exit | error (one line, after `hil: `) |', '| --- | --- | --- | --- |'];
  for (const c of CASES) rows.push(`| ${c.input} | \`hil ${c.args.map((a) => (a === '' ? '""' : a)).join(' ').replace(/\$T\//g, '').replace(/\$T\b/g, 'DIR').replace(/\$BOARD\b/g, 'BOARD')}\` | ${c.exit} | ${c.shown} |`);
  return rows.join('\n');
}
