# `vfs.VfsRom` for the simulated board (imported as `_sim_romvfs`): a Python filesystem object
# the board mounts at /rom with vfs.mount, as the firmware mounts its VfsRom over segment 0 at
# boot. Every lookup is answered by hil's model of the firmware's reader
# (harness/romfs/vfsRom.ts, from extmod/vfs_rom.c and extmod/vfs_rom_file.c) over the segment's
# live bytes, through `_simhw`; file data is read from the segment itself. Read-only: chdir only
# to its root, getcwd '' (extmod/vfs_rom.c).
import io, json, binascii, uctypes, _simhw

_ERRNO = {'ENODEV': 19, 'ENOENT': 2, 'EISDIR': 21, 'EOPNOTSUPP': 95, 'EROFS': 30, 'EPERM': 1}
S_IFDIR = 0x4000
S_IFREG = 0x8000


def _answer(r):
    r = json.loads(r)
    if isinstance(r, dict) and 'error' in r:
        if r['error'] == 'hang':
            # The firmware never comes back from this one (records that lead back to
            # themselves); a cam needs a reset. Here Ctrl-C still ends it.
            while True:
                if _simhw.sleep(1000):
                    raise KeyboardInterrupt
        raise OSError(_ERRNO[r['error']])
    return r


def _hex(path):
    p = path.encode() if isinstance(path, str) else bytes(path)
    return binascii.hexlify(p).decode()


class VfsRom:
    def __init__(self, buf, segments=()):
        mv = memoryview(buf)
        n = len(mv)
        addr = uctypes.addressof(mv)  # the interpreter's own address (not the shim's)
        self._seg = None
        for s in segments:
            if s.addr <= addr < s.addr + s.size:
                self._seg = s
                self._base = addr - s.addr
                break
        if self._seg is not None:
            if self._seg.ram:
                self._seg.persist()  # what was written into RAM through bytearray_at
            self._h = _answer(_simhw.rom_mount(self._seg.index, self._base, n))
            self._addr = self._seg.origin + self._base
        else:
            self._h = _answer(_simhw.rom_mount_bytes(binascii.hexlify(mv).decode(), addr))
            self._base = 0
            self._addr = addr
        self._host = addr
        self._buf = buf

    def mount(self, readonly, mkfs):
        if mkfs:
            raise OSError(_ERRNO['EPERM'])

    def umount(self):
        pass

    def chdir(self, path):
        p = path.encode() if isinstance(path, str) else bytes(path)
        if p != b'/':
            raise OSError(_ERRNO['EOPNOTSUPP'])

    def getcwd(self):
        return ''

    def ilistdir(self, path):
        it = _answer(_simhw.rom_ilistdir(self._h, _hex(path)))
        return self._entries(it, isinstance(path, str))

    def _entries(self, it, as_str):
        while True:
            e = _answer(_simhw.rom_next(it))
            if e is None:
                return
            name = binascii.unhexlify(e['n'])
            # a str path makes a str of each name (UnicodeError where the firmware's check refuses it)
            yield (name.decode() if as_str else name, S_IFDIR if e['d'] else S_IFREG, 0, e['s'])

    def stat(self, path):
        r = _answer(_simhw.rom_stat(self._h, _hex(path)))
        return (S_IFDIR if r['d'] else S_IFREG, 0, 0, 0, 0, 0, r['s'], 0, 0, 0)

    def statvfs(self, path):
        r = _answer(_simhw.rom_statvfs(self._h))
        return (1, 0, r, 0, 0, 0, 0, 0, 0, 32767)

    def open(self, path, mode='r'):
        binary = False
        for c in mode:
            if c in 'wa+':
                raise OSError(_ERRNO['EROFS'])
            if c == 'b':
                binary = True
            elif c == 't':
                binary = False
        r = _answer(_simhw.rom_open(self._h, _hex(path)))
        return RomStream(self, r['o'], r['s'], r['l'], r['x'], binary)

    def data(self, offset, n):
        # n bytes of data at offset (from the start of this VfsRom's buffer), as the firmware reads them
        seg = self._seg
        if seg is not None and 0 <= self._base + offset and self._base + offset + n <= seg.size:
            p = self._base + offset
            return bytes(seg.w[p:p + n])
        return binascii.unhexlify(_simhw.rom_read(self._h, offset, n))


class RomStream(io.IOBase):
    # A file of the simulated /rom as a stream (what the import machinery and text mode use).
    # builtins.open hands a binary one to the program as a buffer over flash (board.py _RomFile).
    def __init__(self, fs, offset, size, length, outside, binary):
        self.fs = fs
        self.offset = offset
        self.size = size
        self.length = length
        self.outside = outside
        self.binary = binary
        self._pos = 0

    def address(self):
        return self.fs._addr + self.offset

    def readinto(self, buf):
        n = min(len(buf), max(0, self.length - self._pos))
        if n:
            buf[:n] = self.fs.data(self.offset + self._pos, n)
            self._pos += n
        return n

    def read(self, n=-1):
        left = max(0, self.length - self._pos)
        n = left if n is None or n < 0 else min(n, left)
        d = self.fs.data(self.offset + self._pos, n) if n else b''
        self._pos += n
        return d if self.binary else d.decode()

    def readline(self):
        out = b''
        while self._pos < self.length:
            c = self.fs.data(self.offset + self._pos, 1)
            self._pos += 1
            out += c
            if c == b'\n':
                break
        return out if self.binary else out.decode()

    def __iter__(self):
        while True:
            line = self.readline()
            if not line:
                return
            yield line

    def seek(self, off, whence=0):
        base = (0, self._pos, self.length)[whence]
        p = base + off
        if p < 0:
            raise OSError(22)
        self._pos = p
        return p

    def tell(self):
        return self._pos

    def ioctl(self, op, arg):
        return 0

    def close(self):
        pass

    def __enter__(self):
        return self

    def __exit__(self, *a):
        self.close()
