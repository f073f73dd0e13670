# Library (prepended to other flash programs, defines no _P use): reach a ROMFS segment at any
# offset, whatever vfs.rom_ioctl(2, id) returns (../shared/docs/firmware.md):
# - a memoryview (stm32, alif, qemu ports). MicroPython keeps memoryview offsets in 24 bits on
#   32-bit boards (py/objarray.c: "memoryview offset too large" at 16 MiB and more), so bytes are
#   reached through uctypes.bytearray_at(address + offset, n) where the board has it;
# - a block device object (mimxrt: mimxrt.Flash, ports/mimxrt/mimxrt_flash.c, which has no len()):
#   size from ioctl(4, 0) blocks of ioctl(5, 0) bytes, bytes read with readblocks(blk, buf, off).
class _HilSeg:
    # err: why the segment cannot be read (None when it can); size in bytes; reach(end): why
    # bytes up to `end` cannot be read, or None; why(n): why its first n bytes cannot be read
    # (err, size or reach), or None; view(a, n): its bytes [a, a + n).
    def __init__(self, sid):
        self.err = self.size = self.addr = self._at = self._buf = self.bs = None
        self.sid = sid
        try:
            import vfs
            m = vfs.rom_ioctl(2, sid)
        except (ImportError, AttributeError):
            self.err = 'board has no vfs.rom_ioctl'
            return
        if isinstance(m, int):
            self.err = 'rom_ioctl(2, %d) = %d' % (sid, m)
            return
        self.obj = m
        if hasattr(m, 'ioctl') and hasattr(m, 'readblocks'):
            self.bs = m.ioctl(5, 0)
            self.size = m.ioctl(4, 0) * self.bs
        else:
            self.size = len(m)
        try:
            import uctypes
            self.addr = uctypes.addressof(m)
            self._at = uctypes.bytearray_at
        except (ImportError, AttributeError, TypeError, ValueError):
            pass

    def reach(self, end):
        # A memoryview reaches 16 MiB at most; bytearray_at any offset; a block device any block.
        if self.bs is None and self._at is None and end > 0x1000000:
            return 'offset %d needs uctypes.bytearray_at (memoryview offsets stop at 16 MiB)' % (end - 1)
        return None

    def why(self, n):
        if self.err:
            return self.err
        if self.size < n:
            return 'segment %d is %d bytes, less than %d' % (self.sid, self.size, n)
        return self.reach(n)

    def view(self, a, n):
        # A buffer holding the segment's bytes [a, a + n), not a copy where the board allows.
        if self.bs is not None:
            if self._buf is None or len(self._buf) < n:
                self._buf = bytearray(n)
            b = memoryview(self._buf)[:n]
            self.obj.readblocks(a // self.bs, b, a % self.bs)
            return b
        if self._at is not None:
            return self._at(self.addr + a, n)
        return self.obj[a:a + n]


def _hil_sha(seg, a, n, step):
    import hashlib
    h = hashlib.sha256()
    p = a
    while p < a + n:
        k = min(step, a + n - p)
        h.update(seg.view(p, k))
        p += k
    return h.digest()
