/**
 * The bad input catalogue: every bad input tried against the built CLI, with the exit code and
 * the one-line error it must give. badinput.test.ts runs each case (spawning `node bin/hil.js`)
 * and checks that the README's "Bad input catalogue" table is exactly `catalogueTable()`, so the
 * README cannot drift from what the tests prove. `$T` is a fresh temp folder holding the files
 * made by `prepare` in the test; `$FW` is a real-looking firmware path.
 */
export interface BadInputCase {
  input: string;
  args: string[];
  exit: number;
  /** Regex the single stderr line must match (after `hil: `). */
  error: RegExp;
  env?: Record<string, string>;
  /** The line shown in the README (a shortened, stable form of the error). */
  shown: string;
}

export const CASES: BadInputCase[] = [
  { input: 'missing image file', args: ['image', 'verify', '$T/none.img', '--profile', 'openmv-h7'], exit: 2, error: /none\.img: cannot read image \(ENOENT\)/, shown: '`FILE: cannot read image (ENOENT)`' },
  { input: 'image path is a folder', args: ['image', 'inspect', '$T'], exit: 2, error: /: not a file$/, shown: '`DIR: not a file`' },
  { input: 'missing image for flash', args: ['flash', '$T/none.img', '--device', 'sim', '--profile', 'openmv-h7'], exit: 2, error: /none\.img: no such image file or source directory/, shown: '`FILE: no such image file or source directory`' },
  { input: 'corrupt image (no magic) for flash', args: ['flash', '$T/bad.img', '--device', 'sim', '--profile', 'openmv-h7'], exit: 2, error: /bad\.img: not a valid ROMFS image: bad header/, shown: '`image FILE: not a valid ROMFS image: bad header: expected ROMFS magic d2 cd 31 (at byte 0)`' },
  { input: 'truncated image for flash', args: ['flash', '$T/trunc.img', '--device', 'sim', '--profile', 'openmv-h7'], exit: 2, error: /trunc\.img: not a valid ROMFS image/, shown: '`image FILE: not a valid ROMFS image: ... (at byte N)`' },
  { input: 'image larger than the partition', args: ['flash', 'test/fixtures/romfs/openmv-flat.img', '--device', 'sim', '--profile', 'openmv-h7'], exit: 2, error: /larger than partition 0 \(131072 bytes as the board reports it\)/, shown: '`image FILE for device sim: image is N bytes, larger than partition 0 (M bytes as the board reports it)`' },
  { input: 'model misaligned for the profile', args: ['flash', 'test/fixtures/romfs/demo.mpremote.img', '--device', 'sim', '--profile', 'openmv-n6'], exit: 2, error: /model 'model\.tflite' data at offset 482 .* not 32-byte aligned/, shown: "`... model 'model.tflite' data at offset 482 (address 0x708001e2) is not 32-byte aligned as profile openmv-n6 requires; ...`" },
  { input: 'unknown profile name', args: ['image', 'build', 'images/demo', '--profile', 'nope', '--output', '$T/o.img'], exit: 2, error: /unknown profile 'nope' \(known: /, shown: "`unknown profile 'nope' (known: ...)`" },
  { input: 'malformed YAML profile', args: ['image', 'build', 'images/demo', '--profile', '$T/bad.yaml', '--output', '$T/o.img'], exit: 2, error: /bad\.yaml: not valid YAML/, shown: '`FILE: not valid YAML: ... (line:col)`' },
  { input: 'malformed JSON romfs_config', args: ['image', 'build', '--config', '$T/bad.json', '--profile', 'openmv-h7', '--output', '$T/o.img'], exit: 2, error: /bad\.json: not valid JSON/, shown: '`FILE: not valid JSON: ...`' },
  { input: 'malformed YAML bench file', args: ['run', 'scenarios/model-load', '--bench', '$T/bad.yaml'], exit: 2, error: /bad\.yaml: not valid YAML/, shown: '`FILE: not valid YAML: ...`' },
  { input: 'unknown scenario', args: ['run', 'scenarios/nope'], exit: 2, error: /scenario 'scenarios\/nope' not found/, shown: "`scenario 'scenarios/nope' not found (looked in ...)`" },
  { input: 'nonexistent serial port', args: ['exec', 'pass', '--device', '/dev/ttyNOPE', '--profile', 'openmv-h7'], exit: 2, error: /\/dev\/ttyNOPE: no such serial port/, shown: '`/dev/ttyNOPE: no such serial port`' },
  { input: 'connection string without a profile', args: ['exec', 'pass', '--device', '/dev/ttyNOPE'], exit: 2, error: /device \/dev\/ttyNOPE: no devices\/bench\.yaml; give --profile/, shown: '`device CONN: no devices/bench.yaml; give --profile for a connection string`' },
  { input: 'QEMU with a non-QEMU profile', args: ['exec', 'pass', '--device', 'qemu', '--profile', 'openmv-h7'], exit: 2, error: /profile openmv-h7 is not a QEMU board/, shown: '`profile openmv-h7 is not a QEMU board (no qemu.machine); use a qemu-* profile`' },
  { input: 'QEMU firmware not set', args: ['exec', 'pass', '--device', 'qemu', '--profile', 'qemu-mps2-an385'], env: { HIL_QEMU_FIRMWARE: '' }, exit: 2, error: /no QEMU firmware: set HIL_QEMU_FIRMWARE/, shown: '`no QEMU firmware: set HIL_QEMU_FIRMWARE to a firmware.elf built from MicroPython ports/qemu (...)`' },
  { input: 'QEMU firmware file missing', args: ['exec', 'pass', '--device', 'qemu', '--profile', 'qemu-mps2-an385'], env: { HIL_QEMU_FIRMWARE: '/nonexistent/firmware.elf' }, exit: 2, error: /\/nonexistent\/firmware\.elf: QEMU firmware file not found/, shown: '`FILE: QEMU firmware file not found`' },
  { input: 'a regular file given as the serial port', args: ['exec', 'pass', '--device', '/etc/hostname', '--profile', 'openmv-h7'], exit: 2, error: /\/etc\/hostname: not a serial port/, shown: '`FILE: not a serial port (not a character device)`' },
  { input: 'TCP port with nothing listening', args: ['exec', 'pass', '--device', 'socket://127.0.0.1:1', '--profile', 'openmv-h7'], exit: 3, error: /socket:\/\/127\.0\.0\.1:1: connection refused/, shown: '`socket://127.0.0.1:1: connection refused (nothing listens there)`' },
];

export function catalogueTable(): string {
  const rows = ['| bad input | command | exit | error (one line, after `hil: `) |', '| --- | --- | --- | --- |'];
  for (const c of CASES) rows.push(`| ${c.input} | \`hil ${c.args.join(' ').replace(/\$T\//g, '')}\` | ${c.exit} | ${c.shown} |`);
  return rows.join('\n');
}
