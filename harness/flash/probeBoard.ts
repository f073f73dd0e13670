/**
 * Ask the board what flashing needs to know, with reads only (nothing is written):
 * ROMFS segments, the partition's size and address, its erase block (`rom_ioctl(6, id)`, a negative
 * errno when the board cannot erase/write, as on MicroPython's qemu port), the .mpy it loads,
 * whether it has deflate, uctypes.bytearray_at and hashlib.sha256, and its free heap.
 */
import type { Device } from '../device/types.js';
import { execJson, pyInt } from './boardJson.js';

export interface BoardFacts {
  /** `vfs.rom_ioctl` exists. */
  romIoctl: boolean;
  /** `rom_ioctl(1)`: number of ROMFS segments (null without rom_ioctl). */
  segments: number | null;
  /** Size in bytes of the partition (`len(rom_ioctl(2, id))`), null when unavailable. */
  partitionSize: number | null;
  /** Negative errno `rom_ioctl(2, id)` returned, when it did. */
  partitionErrno: number | null;
  /** Address of the partition's first byte (`uctypes.addressof`), null when unknown. */
  origin: number | null;
  /** `rom_ioctl(6, id)`: positive erase block size, or the negative errno the board returned. */
  eraseBlock: number | null;
  /** `sys.implementation._mpy`, null when the firmware does not report it. */
  mpy: number | null;
  deflate: boolean;
  bytearrayAt: boolean;
  sha256: boolean;
  /** `gc.mem_free()` after a collection. */
  memFree: number | null;
  platform: string;
  /**
   * sha256 (hex) of the partition's first `hashLength` bytes when asked for (skip-if-same in the
   * same round trip), null when not asked or the partition is smaller or has no hashlib.
   */
  currentSha256: string | null;
}

export function probeCode(partition: number, hashLength = 0): string {
  const id = pyInt(partition);
  const n = pyInt(hashLength);
  return `
import sys, gc
_r = {'romIoctl': False, 'segments': None, 'partitionSize': None, 'partitionErrno': None,
      'origin': None, 'eraseBlock': None, 'mpy': getattr(sys.implementation, '_mpy', None),
      'deflate': False, 'bytearrayAt': False, 'sha256': False, 'memFree': None,
      'platform': sys.platform, 'currentSha256': None}
try:
    import vfs
    _f = vfs.rom_ioctl
    _r['romIoctl'] = True
except (ImportError, AttributeError):
    _f = None
try:
    import uctypes
    _r['bytearrayAt'] = hasattr(uctypes, 'bytearray_at')
except ImportError:
    uctypes = None
if _f:
    _r['segments'] = _f(1)
    _m = _f(2, ${id})
    if isinstance(_m, int):
        _r['partitionErrno'] = _m
    else:
        _r['partitionSize'] = len(_m)
        if uctypes:
            try:
                _r['origin'] = uctypes.addressof(_m)
            except Exception:
                pass
    _e = _f(6, ${id})
    _r['eraseBlock'] = _e if isinstance(_e, int) else None
    if ${n} > 0 and not isinstance(_m, int) and len(_m) >= ${n}:
        try:
            import hashlib, binascii
            _h = hashlib.sha256()
            for _a in range(0, ${n}, 16384):
                _h.update(_m[_a:min(_a + 16384, ${n})])
            _r['currentSha256'] = binascii.hexlify(_h.digest()).decode()
        except ImportError:
            pass
    _m = None
try:
    import deflate
    _r['deflate'] = hasattr(deflate, 'DeflateIO')
except ImportError:
    pass
try:
    import hashlib
    _r['sha256'] = hasattr(hashlib, 'sha256')
except ImportError:
    pass
try:
    gc.collect()
    _r['memFree'] = gc.mem_free()
except AttributeError:
    pass
_hil_answer(_r)
`;
}

/** Probe the board; with `hashLength`, also hash that many bytes of the partition (reads only). */
export async function probeBoard(device: Device, partition: number, hashLength = 0): Promise<BoardFacts> {
  return execJson<BoardFacts>(device, probeCode(partition, hashLength), 'probe', 20_000 + Math.ceil(hashLength / 50_000) * 1000, true);
}
