# mimxrt port (OpenMV Cam RT1062): `vfs.rom_ioctl(2)` returns a mimxrt.Flash block device over
# the ROMFS area, not a memoryview; every other command but 1 is -EINVAL, in both API
# generations (ports/mimxrt/mimxrt_flash.c, unchanged from v1.28.0 to master).
EINVAL = -22


class Flash(memoryview):
    # The Flash object: ioctl / readblocks / writeblocks on 4 KiB sectors, and a read-only buffer
    # over the area (memoryview(dev), hashing and uctypes.addressof(dev) work; it has no len()).
    # mimxrt_flash.c. (A memoryview underneath, so the buffer is the segment's own bytes.)
    def __len__(self):
        raise TypeError("object of type 'Flash' has no len()")

    def ioctl(self, op, arg):
        seg = self._seg
        if op in (1, 2, 3):  # INIT, DEINIT, SYNC
            return 0
        if op == 4:  # BLOCK_COUNT
            return seg.size // seg.eraseBlock
        if op == 5:  # BLOCK_SIZE (SECTOR_SIZE_BYTES)
            return seg.eraseBlock
        if op == 6:  # BLOCK_ERASE: flash_erase_sector(); 1 when it failed
            return 0 if self._erase(int(arg)) else 1
        return None

    def _erase(self, blk):
        seg = self._seg
        off = blk * seg.eraseBlock
        if seg.failing() or not 0 <= off < seg.size:
            return False
        seg.fill(off, seg.eraseBlock)
        return True

    def readblocks(self, blk, buf, off=0):
        # flash_read_block(): len(buf) bytes from blk * 4096 + off (no bounds check on the cam;
        # bytes outside the ROMFS area read as erased here).
        seg = self._seg
        start = int(blk) * seg.eraseBlock + int(off)
        n = len(buf)
        got = seg.read(max(0, start), n) if 0 <= start < seg.size else b''
        buf[:len(got)] = got
        if len(got) < n:
            buf[len(got):n] = b'\xff' * (n - len(got))
        return None

    def writeblocks(self, blk, buf, *off):
        # Without an offset the sector is erased first; with one, only written. Programming is
        # NOR (clears bits). A failure raises OSError; otherwise returns 0.
        seg = self._seg
        start = int(blk) * seg.eraseBlock
        if not off:
            if not self._erase(int(blk)):
                raise OSError('flash erase command failed with 1')
        else:
            start += int(off[0])
        data = bytes(memoryview(buf))
        if seg.failing() or start < 0 or start + len(data) > seg.size:
            raise OSError('flash block write command failed with 1')
        seg.nor_program(start, data)
        return 0


def rom_ioctl_for(segments, api):
    dev = Flash(segments[0].mv)
    dev._seg = segments[0]

    def rom_ioctl(*args):
        cmd = int(args[0])
        if cmd == 1:
            return 1
        if cmd == 2:
            # the segment id is not looked at
            return dev
        return EINVAL

    return rom_ioctl
