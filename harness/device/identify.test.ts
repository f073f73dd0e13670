/**
 * Board identity: the answer of harness/board/device/identify.py parsed, held against every
 * profile, and the choice hil makes from it. Identities below are what the upstream firmware
 * reports (strings from the files each profile cites), so a profile whose `identify` drifts from
 * upstream fails here. The identify program itself runs on real MicroPython (the WasmBoard test
 * double) with the port objects it meets on boards: a memoryview segment, a mimxrt.Flash-like
 * block device, no vfs.rom_ioctl at all.
 */
import { describe, expect, it, beforeAll } from '@jest/globals';
import { loadAllProfiles, loadProfile, type BoardProfile } from '../profile/profile.js';
import { BoardIdentityError, chooseProfile, contradictions, decodeMpy, describeIdentity, matchProfiles, parseIdentity, readIdentity, type BoardIdentity } from './identify.js';
import { WasmBoard } from '../../test/doubles/wasmBoard.js';
import { ExitCode } from '../errors.js';

const profiles = loadAllProfiles();
const byName = (n: string) => profiles.find((p) => p.name === n)!;

/** `_mpy` as py/persistentcode.h builds it: version 6, sub-version 3, arch index. */
const mpy = (arch: number) => 6 | ((3 | (arch << 2)) << 8);
const ARMV7EM = 6;
const ARMV7EMSP = 7;
const ARMV7EMDP = 8;

/** The raw answer identify.py gives on each board (sys.platform, _machine, segment 0). */
function answer(platform: string, machine: string, origin: number | null, size: number, arch = ARMV7EMDP, extra: Record<string, unknown> = {}) {
  return {
    platform, name: 'micropython', version: [1, 27, 0], machine, mpy: mpy(arch),
    uname: { sysname: platform, nodename: platform, release: '1.27.0', version: 'v1.27.0-omv on 2026-06-29', machine },
    segments: [{ id: 0, access: 'memoryview', origin, size }], uniqueId: '3a0021000951333439363535', ...extra,
  };
}

// What each upstream firmware reports (see each profile's identify comment for the source file).
const UPSTREAM: Record<string, ReturnType<typeof answer>> = {
  'openmv-h7': answer('OpenMV4-H7', 'OPENMV4 with STM32H743', 0x081e0000, 0x20000),
  'openmv-h7-plus': answer('OpenMV4P-H7', 'OPENMV4P with STM32H743', 0x91800000, 0x800000),
  'openmv-pt': answer('OpenMVPureThermal', 'OPENMVPT with STM32H743', 0x91800000, 0x800000),
  'openmv-n6': answer('pyboard', 'OpenMV N6 with STM32N657X0', 0x70800000, 0x1800000),
  'arduino-nicla-vision': answer('pyboard', 'Arduino Nicla Vision with STM32H747', 0x90b00000, 0x400000),
  'arduino-portenta-h7': answer('pyboard', 'Arduino Portenta H7 with STM32H747', 0x90b00000, 0x400000),
  'arduino-giga': answer('pyboard', 'Arduino GIGA R1 WiFi with STM32H747', 0x90b00000, 0x400000),
  'openmv-rt1062': answer('mimxrt', 'OpenMV IMXRT1060 with MIMXRT1062DVJ6A', 0x60800000, 0x800000, ARMV7EMSP, {
    segments: [{ id: 0, access: 'blockdev', origin: 0x60800000, size: 2048 * 4096 }],
  }),
  'openmv-ae3': answer('alif', 'OpenMV-AE3 with AE302F80F55D5AE', 0xa0800000, 0x1800000, ARMV7EMDP, {
    segments: [{ id: 0, access: 'memoryview', origin: 0xa0800000, size: 0x1800000 }, { id: 1, access: 'memoryview', origin: 0x8047e000, size: 0x100000 }],
  }),
  'qemu-mps2-an385': answer('qemu', 'mps2-an385 with Cortex-M3', 0x21000000, 0x400000, ARMV7EM, { uname: null, uniqueId: null }),
  'qemu-mps2-an500': answer('qemu', 'mps2-an500 with Cortex-M7', 0x60c00000, 0x400000, ARMV7EMDP, { uname: null, uniqueId: null }),
  'qemu-mps3-an547': answer('qemu', 'mps3-an547 with Cortex-M55', 0x62000000, 0x2000000, ARMV7EMDP, { uname: null, uniqueId: null }),
};

describe('profiles and upstream identities', () => {
  it('has an upstream identity for every profile', () => {
    expect(Object.keys(UPSTREAM).sort()).toEqual(profiles.map((p) => p.name).sort());
  });

  it.each(Object.keys(UPSTREAM))('%s: the firmware identity matches exactly this profile', (name) => {
    const id = parseIdentity(UPSTREAM[name]);
    expect(matchProfiles(id, profiles).map((p) => p.name)).toEqual([name]);
    expect(chooseProfile('cam', id, undefined, profiles)).toEqual({ profile: byName(name), detected: true });
  });

  it("every profile's identify agrees with its own segment 0 and .mpy", () => {
    for (const p of profiles) {
      expect({ name: p.name, origin: p.identify.origin, size: p.identify.size }).toEqual({ name: p.name, origin: p.partition.origin, size: p.partition.size });
      expect(p.identify.machine).toBeDefined();
      expect(decodeMpy(UPSTREAM[p.name]!.mpy).arch).toBe(p.mpy.arch);
    }
  });

  it('no two profiles can match the same identity', () => {
    // The identity each profile expects, as a board would report it, matches no other profile:
    // for every pair some identify field differs (platform, machine, or segment 0).
    for (const a of profiles) {
      const id: BoardIdentity = {
        platform: a.identify.platform, machine: a.identify.machine ?? null, mpy: null,
        implementation: { name: 'micropython', version: null }, uname: null, uniqueId: null,
        segments: [{ id: 0, access: 'memoryview', origin: a.identify.origin ?? null, size: a.identify.size ?? null }],
      };
      expect({ a: a.name, matches: matchProfiles(id, profiles).map((p) => p.name) }).toEqual({ a: a.name, matches: [a.name] });
    }
  });
});

describe('parsing the identity answer', () => {
  it('decodes _mpy as py/persistentcode.h encodes it', () => {
    expect(decodeMpy(8966)).toEqual({ raw: 8966, version: 6, subVersion: 3, arch: 'armv7emdp' });
    expect(decodeMpy(7942).arch).toBe('armv7emsp');
    expect(decodeMpy(774)).toEqual({ raw: 774, version: 6, subVersion: 3, arch: 'bytecode' }); // the WebAssembly port
  });

  it('keeps a blockdev segment, an errno segment and missing facilities as such', () => {
    const id = parseIdentity({
      platform: 'mimxrt', machine: null, mpy: null, uname: { sysname: 'mimxrt', nodename: 'mimxrt', release: '1.27.0', version: 'x', machine: 'OpenMV IMXRT1060 with MIMXRT1062DVJ6A' },
      segments: [{ id: 0, access: 'blockdev', origin: null, size: 8388608 }, { id: 1, access: 'errno', errno: -22, origin: null, size: null }], uniqueId: null,
    });
    // Firmware without _machine: os.uname().machine is the same string (extmod/modos.c).
    expect(id.machine).toBe('OpenMV IMXRT1060 with MIMXRT1062DVJ6A');
    expect(id.segments).toEqual([{ id: 0, access: 'blockdev', origin: null, size: 8388608 }, { id: 1, access: 'errno', errno: -22, origin: null, size: null }]);
    // An address the board could not give is not held against the profile.
    expect(contradictions(id, byName('openmv-rt1062'))).toEqual([]);
    expect(describeIdentity(id)).toBe("platform mimxrt, machine 'OpenMV IMXRT1060 with MIMXRT1062DVJ6A', ROMFS0 address unknown 8 MiB, 2 segments");
  });

  it('says the board inflates only when its identity said deflate.DeflateIO is there', () => {
    expect(parseIdentity({ platform: 'rp2', inflate: true }).inflate).toBe(true);
    for (const inflate of [false, undefined, 1, 'yes']) expect(parseIdentity({ platform: 'rp2', inflate }).inflate).toBeUndefined();
  });

  it('treats an answer without sys.platform as a fault of the link or board, not bad input', () => {
    expect(() => parseIdentity({ machine: 'x' })).toThrow(/without sys.platform/);
    try {
      parseIdentity(null);
    } catch (e) {
      expect((e as { exitCode: number }).exitCode).toBe(ExitCode.INFRA);
    }
  });
});

describe('choosing the profile', () => {
  const an500 = parseIdentity(UPSTREAM['qemu-mps2-an500']);
  const rt = parseIdentity(UPSTREAM['openmv-rt1062']);

  it('keeps a given profile the board matches', () => {
    expect(chooseProfile('cam', an500, byName('qemu-mps2-an500'), profiles)).toEqual({ profile: byName('qemu-mps2-an500'), detected: false });
  });

  it('refuses an AN500 run as AN385, naming both, with the profile it matches', () => {
    const e = (() => { try { chooseProfile('socket://127.0.0.1:4000', an500, byName('qemu-mps2-an385'), profiles); } catch (x) { return x as BoardIdentityError; } })()!;
    expect(e).toBeInstanceOf(BoardIdentityError);
    expect(e.exitCode).toBe(ExitCode.USAGE);
    expect(contradictions(an500, byName('qemu-mps2-an385'))).toEqual(['machine "mps2-an500 with Cortex-M7" (expected "mps2-an385 with Cortex-M3")', 'ROMFS0 at 0x60c00000 (expected 0x21000000)']);
    expect(e.message).toBe("socket://127.0.0.1:4000: profile qemu-mps2-an385 does not fit this board: it reports platform qemu, machine 'mps2-an500 with Cortex-M7', ROMFS0 0x60c00000 4 MiB, but qemu-mps2-an385 expects platform qemu, machine 'mps2-an385 with Cortex-M3', ROMFS0 0x21000000 4 MiB; the board matches qemu-mps2-an500; nothing was written");
  });

  it('refuses an RT1062 run as an H7', () => {
    expect(() => chooseProfile('/dev/ttyACM0', rt, byName('openmv-h7'), profiles)).toThrow(/^\/dev\/ttyACM0: profile openmv-h7 does not fit this board: it reports platform mimxrt, .*the board matches openmv-rt1062; nothing was written$/);
  });

  it('refuses a board whose partition differs from its profile (a custom firmware build)', () => {
    const small = parseIdentity({ ...UPSTREAM['openmv-h7-plus'], segments: [{ id: 0, access: 'memoryview', origin: 0x91800000, size: 0x400000 }] });
    expect(contradictions(small, byName('openmv-h7-plus'))).toEqual(['ROMFS0 of 4 MiB (expected 8 MiB)']);
    expect(() => chooseProfile('cam', small, undefined, profiles)).toThrow(/^cam: no profile matches the board: it reports platform OpenMV4P-H7, .*ROMFS0 0x91800000 4 MiB \(profiles for platform OpenMV4P-H7: openmv-h7-plus\); give --profile/);
  });

  it('names what the board reported and every known profile when nothing matches', () => {
    const esp = parseIdentity({ platform: 'esp32', machine: 'Generic ESP32 module with ESP32', segments: null });
    expect(() => chooseProfile('cam', esp, undefined, profiles)).toThrow(new RegExp(`^cam: no profile matches the board: it reports platform esp32, machine 'Generic ESP32 module with ESP32', no vfs.rom_ioctl \\(known: ${profiles.map((p) => p.name).join(', ')}\\); give --profile with a profile file for this board$`));
  });

  it('refuses to guess between several matching profiles', () => {
    const twin: BoardProfile = { ...byName('openmv-h7'), name: 'my-h7', source: 'test' };
    const id = parseIdentity(UPSTREAM['openmv-h7']);
    expect(() => chooseProfile('cam', id, undefined, [...profiles, twin])).toThrow(/^cam: the board reports platform OpenMV4-H7, .*which matches several profiles \(openmv-h7, my-h7\); give --profile$/);
  });
});

describe('the identify board program on real MicroPython', () => {
  let board: WasmBoard;
  beforeAll(async () => {
    board = await WasmBoard.create();
  });

  it('answers platform, implementation, and no segments where vfs.rom_ioctl is missing (one query)', async () => {
    board.reset();
    const id = await readIdentity(board.asDevice());
    expect(board.sent).toHaveLength(1);
    expect(id.platform).toBe('webassembly');
    expect(id.machine).toBe('JS with Emscripten');
    expect(id.mpy?.arch).toBe('bytecode');
    expect(id.implementation).toEqual({ name: 'micropython', version: expect.stringMatching(/^1\.\d+\.\d+$/) });
    expect(id.segments).toBeNull();
  });

  it('reads a memoryview segment by uctypes.addressof and len, and a block device by ioctl(4) x ioctl(5)', async () => {
    board.reset();
    // Stand-ins for the port objects: a RAM memoryview (qemu, stm32), and an object with the
    // mimxrt.Flash methods but no len() (ports/mimxrt/mimxrt_flash.c), then -22 for segment 2.
    await board.execRaw(`
import sys, uctypes
_seg0 = memoryview(bytearray(4096))
class _Flash:
    def ioctl(self, op, arg):
        return {4: 2048, 5: 4096}[op]
class _Vfs:
    def rom_ioctl(self, cmd, *a):
        if cmd == 1:
            return 3
        return [_seg0, _Flash(), -22][a[0]]
sys.modules['vfs'] = _Vfs()
`);
    const id = await readIdentity(board.asDevice());
    expect(id.segments).toEqual([
      { id: 0, access: 'memoryview', origin: expect.any(Number), size: 4096 },
      { id: 1, access: 'blockdev', origin: null, size: 8388608 },
      { id: 2, access: 'errno', errno: -22, origin: null, size: null },
    ]);
    expect(id.segments![0]!.origin).toBeGreaterThan(0);
    await board.execRaw("import sys\ndel sys.modules['vfs']");
  });
});

it('loads the sim default profile through the same loader', () => {
  expect(loadProfile('openmv-h7').identify).toEqual({ platform: 'OpenMV4-H7', machine: 'OPENMV4 with STM32H743', origin: 0x081e0000, size: 0x20000 });
});
