/**
 * TEST DOUBLE (board side): Python that replaces `vfs` in `sys.modules` on a board whose ROMFS
 * partition is RAM (MicroPython's qemu port) with a module whose `rom_ioctl` 3..6 follow the stm32
 * port over that RAM (../shared/docs/firmware.md; upstream ports/stm32/vfs_rom_ioctl.c):
 * - api 'released' (default; every MicroPython tag and OpenMV release): `(3, id, len)` erases
 *   whole erase blocks from the segment's start and returns the min write size (a 4th argument is
 *   ignored: `(3, id, off, len)` erases [0, off)); 6 and 5 answer -22;
 * - api 'master': also `(3, id, off, len)` (ranged erase, off a multiple of the erase block) and
 *   `(6, id)` answers the erase block; 5 answers -22 there too;
 * write needs erased bytes and whole minimum-write units, negative errno on bad ranges, and a
 * `fail` switch that makes erase (the writability probe `(3, id, 0)` included) or only writes
 * return -5 (EIO). Lets rom-ioctl flashing run on real MicroPython under QEMU. Everything else is
 * delegated to the real vfs; a soft reset removes it.
 */
export interface RomIoctlShimOptions {
  eraseBlock?: number;
  minWrite?: number;
  /** Make erase (and so everything) or only writes return -5 (EIO). */
  fail?: 'erase' | 'write' | false;
  /** Which stm32 rom_ioctl to follow: 'released' (default) or 'master' (ranged erase, cmd 6). */
  api?: 'released' | 'master';
}

export function romIoctlShimCode(opts: RomIoctlShimOptions = {}): string {
  const eb = opts.eraseBlock ?? 4096;
  const mw = opts.minWrite ?? 16;
  return `
import sys, uctypes
_real_vfs = __import__('vfs')
class _HilFlashShim:
    def __init__(self, real, eb, mw, fail, master):
        self.real = real
        self.master = master
        self.eb = eb
        self.mw = mw
        self.fail = fail
        m = real.rom_ioctl(2, 0)
        self.size = len(m)
        self.ba = uctypes.bytearray_at(uctypes.addressof(m), len(m))
    def __getattr__(self, name):
        return getattr(self.real, name)
    def rom_ioctl(self, cmd, *a):
        if cmd in (1, 2):
            return self.real.rom_ioctl(cmd, *a)
        if not a or a[0] != 0:
            return -22
        if cmd == 6:
            return self.eb if self.master else -22
        if cmd == 3:
            if len(a) < 2:
                return -22
            off, n = (a[1], a[2]) if self.master and len(a) > 2 else (0, a[1])
            if off < 0 or n < 0 or off + n > self.size or off % self.eb:
                return -22
            if self.fail == 'erase':
                return -5
            end = min(self.size, (off + n + self.eb - 1) // self.eb * self.eb)
            for p in range(off, end, 256):
                self.ba[p:min(p + 256, end)] = b'\\xff' * (min(p + 256, end) - p)
            return self.mw
        if cmd == 4:
            off, buf = a[1], a[2]
            if off % self.mw or len(buf) % self.mw or off + len(buf) > self.size:
                return -22
            if self.fail:
                return -5
            for i in range(off, off + len(buf)):
                if self.ba[i] != 0xff:
                    return -5
            self.ba[off:off + len(buf)] = buf
            return 0
        return -22
sys.modules['vfs'] = _HilFlashShim(_real_vfs, ${eb}, ${mw}, ${opts.fail ? `'${opts.fail}'` : 'None'}, ${opts.api === 'master' ? 'True' : 'False'})
`;
}
