/**
 * The profile field `mlRam` (harness/profile/profile.ts): the RAM the board gives `ml`, from
 * OpenMV's board_config.h (the largest GC block). Optional; when given, a positive integer.
 */
import { describe, expect, it } from '@jest/globals';
import { loadProfile, listProfiles, parseProfile } from '../profile/profile.js';
import { ConfigError } from '../errors.js';

const base = {
  name: 'x', partition: { origin: 0, size: 4096, medium: 'ram' }, firmware: { port: 'qemu' }, identify: { platform: 'qemu' },
  align: { models: 16, default: 4 }, mpy: { version: 6, arch: 'armv7m' },
};

describe('profile field mlRam', () => {
  it('the built-in profiles carry the largest GC block of their OpenMV board; the N6 (NBIN) and MicroPython\'s AN385 none', () => {
    const got = Object.fromEntries(listProfiles().map((n) => [n, loadProfile(n).mlRam]));
    expect(got).toEqual({
      'arduino-giga': 2560 * 1024,
      'arduino-nicla-vision': 276 * 1024,
      'arduino-portenta-h7': 2560 * 1024,
      'openmv-ae3': 4 * 1024 * 1024,
      'openmv-h7': 264 * 1024,
      'openmv-h7-plus': 4 * 1024 * 1024,
      'openmv-n6': undefined,
      'openmv-pt': 8 * 1024 * 1024,
      'openmv-rt1062': 8 * 1024 * 1024,
      'qemu-mps2-an385': undefined,
      'qemu-mps2-an500': 1024 * 1024,
      'qemu-mps3-an547': 8 * 1024 * 1024,
    });
  });

  it('a bad value names the file and field', () => {
    expect(parseProfile({ ...base, mlRam: 65536 }, 'p.yaml').mlRam).toBe(65536);
    expect(parseProfile(base, 'p.yaml').mlRam).toBeUndefined();
    expect(() => parseProfile({ ...base, mlRam: '64K' }, 'p.yaml')).toThrow(ConfigError);
    expect(() => parseProfile({ ...base, mlRam: '64K' }, 'p.yaml')).toThrow("p.yaml: field 'mlRam' must be a non-negative integer");
    expect(() => parseProfile({ ...base, mlRam: 0 }, 'p.yaml')).toThrow("p.yaml: field 'mlRam' must be greater than zero");
  });
});
