# One ROMFS segment of the simulated board (imported by the board's other modules as
# `_sim_segment`). Its bytes live in a `bytes` object, so the memoryview handed out by
# `rom_ioctl(2)` is read-only as the firmware's is (ports/stm32/vfs_rom_ioctl.c builds it with
# typecode 'B' and no write flag), and are changed in place by the personality's erase and
# write. Every change reaches the board process at once, which writes it into the segment's
# partition file: the file always holds what the "flash" holds, so a flash interrupted mid-way
# leaves exactly what a cam would have. RAM segments are written through uctypes.bytearray_at
# and kept at soft reset and machine.reset() (persist()).
import uctypes, binascii, _simhw

EIO = -5
_CHUNK = 65536
_BLANK = {}


def _blank(value):
    # a 64 KiB run of the blank byte, made once (comparing with it is a memcmp)
    b = _BLANK.get(value)
    if b is None:
        b = _BLANK[value] = bytes((value,)) * _CHUNK
    return b


class Segment:
    def __init__(self, index, spec):
        self.index = index
        self.origin = spec['origin']
        self.size = spec['size']
        self.device = spec['device']
        self.access = spec['access']
        self.ram = spec['medium'] == 'ram'
        self.eraseBlock = spec.get('eraseBlock') or 4096
        self.minWrite = spec.get('minWrite') or 4
        self.writeUnit = spec.get('writeUnit') or self.minWrite
        self.buf = bytes(self.size)
        self.addr = uctypes.addressof(self.buf)
        self.w = uctypes.bytearray_at(self.addr, self.size)
        path = '/.sim/seg%d' % index
        with open(path, 'rb') as f:
            f.readinto(self.w)
        import os
        os.remove(path)
        self.mv = memoryview(self.buf)

    def failing(self):
        # hil's fault injection (`--fail-writes`): the medium answers every erase and write -EIO.
        return _simhw.fail_writes()

    def read(self, off, n):
        return bytes(self.w[off:off + n])

    def is_blank(self, off, n, value=0xFF):
        blank = _blank(value)
        end = min(self.size, off + n)
        while off < end:
            k = min(_CHUNK, end - off)
            if self.w[off:off + k] != (blank if k == _CHUNK else blank[:k]):
                return False
            off += k
        return True

    def fill(self, off, n, value=0xFF):
        end = min(self.size, off + n)
        p = max(0, off)
        block = _blank(value)
        while p < end:
            k = min(_CHUNK, end - p)
            self.w[p:p + k] = block if k == _CHUNK else block[:k]
            p += k
        _simhw.fill(self.index, max(0, off), end - max(0, off), value)

    def store(self, off, data):
        n = len(data)
        if n == 0:
            return
        self.w[off:off + n] = data
        _simhw.store(self.index, off, binascii.hexlify(data).decode())

    def nor_program(self, off, data):
        # NOR flash programs by clearing bits: what is there AND what is written. A byte that was
        # not erased keeps its 0 bits; the chip reports no error (drivers/memory/spiflash.c).
        n = min(len(data), self.size - off)
        if n != len(data) or not isinstance(data, bytes):
            data = bytes(data[:n])
        if not self.is_blank(off, n):
            old = int.from_bytes(self.read(off, n), 'big')
            data = (old & int.from_bytes(data, 'big')).to_bytes(n, 'big')
        self.store(off, data)

    def persist(self):
        # RAM segments: the board process keeps what the program wrote through bytearray_at.
        if not self.ram:
            return
        path = '/.sim/seg%d' % self.index
        with open(path, 'wb') as f:
            f.write(self.w)
        _simhw.persist(self.index)

    def host_address(self, flash_addr):
        # The interpreter's address of a flash address inside this segment, or None.
        if self.origin <= flash_addr < self.origin + self.size:
            return self.addr + flash_addr - self.origin
        return None

    def flash_address(self, host_addr):
        if self.addr <= host_addr <= self.addr + self.size:
            return self.origin + host_addr - self.addr
        return None
