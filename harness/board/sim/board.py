# The simulated board's common half, run at every boot before the REPL starts (loaded by
# harness/sim/boardProcess.ts as `_simboard`, with `_P` its parameters). It gives the real
# MicroPython interpreter (WebAssembly port) what an OpenMV cam has and the wasm port lacks:
# `sys.stdin`/`sys.stdout` on the serial line, `machine`, `vfs.rom_ioctl` from the board's
# firmware personality over its ROMFS segments (one module per port/medium, next to this file),
# `uctypes` addresses in flash, /rom, and a simulated `ml` (ml.py) that gives the outcomes a cam
# gives for a model's bytes and address but says it does not run the network. Host services come from the JS module `_simhw`.
import sys as _sys, builtins as _b, binascii as _ba, json as _json
import vfs as _vfs, uctypes as _uc, micropython as _mpy, time as _time, _simhw as _hw
import _sim_segment, _sim_romvfs

_open = _b.open


class _Shim:
    def __init__(self, mod, name):
        for k in dir(mod):
            if not k.startswith('__'):
                try:
                    setattr(self, k, getattr(mod, k))
                except Exception:
                    pass
        self.__name__ = name


# --- serial line streams ----------------------------------------------------------------
class _InBuf:
    def read(self, n=-1):
        if n is None or n < 0:
            n = 1
        h = _hw.read(n)
        if h is None:
            raise KeyboardInterrupt
        return _ba.unhexlify(h)

    def readinto(self, b, n=-1):
        m = len(b) if n is None or n < 0 else min(n, len(b))
        d = self.read(m)
        b[:len(d)] = d
        return len(d)


class _In:
    def __init__(self):
        self.buffer = _InBuf()

    def read(self, n=-1):
        return self.buffer.read(n).decode()

    def readline(self):
        out = b''
        while True:
            c = self.buffer.read(1)
            out += c
            if c in (b'\n', b'\r'):
                return out.decode()


class _OutBuf:
    def write(self, b):
        _hw.out(_ba.hexlify(b).decode())
        return len(b)


class _Out:
    def __init__(self):
        self.buffer = _OutBuf()

    def write(self, s):
        print(s, end='')
        return len(s)

    def flush(self):
        pass


_sysshim = _Shim(_sys, 'sys')
_sysshim.stdin = _In()
_sysshim.stdout = _Out()
_sysshim.stderr = _sysshim.stdout
_sys.modules['sys'] = _sysshim


# --- identity: what the simulated board's firmware reports, as the real board's does ----------
# sys.platform (MICROPY_PY_SYS_PLATFORM), sys.implementation._machine (MICROPY_HW_BOARD_NAME
# " with " MICROPY_HW_MCU_NAME, py/modsys.c) and _mpy; os.uname() where the port has it
# (extmod/modos.c). Read on connect by harness/board/device/identify.py.
class _Impl:
    pass


_id = _P['identity']
_impl = _Impl()
_impl.name = _sys.implementation.name
_impl.version = _sys.implementation.version
_impl._machine = _id['machine']
_impl._mpy = _id['mpy']
_sysshim.platform = _id['platform']
_sysshim.implementation = _impl
import os as _os
from collections import namedtuple as _nt
_osshim = _Shim(_os, 'os')
if _id['uname']:
    _un = _nt('uname_result', ['sysname', 'nodename', 'release', 'version', 'machine'])(
        _sysshim.platform, _sysshim.platform, '.'.join(str(x) for x in _impl.version[:3]),
        'hil simulated board', _impl._machine)
    _osshim.uname = lambda: _un
_sys.modules['os'] = _osshim


# --- keyboard interrupt and sleeping --------------------------------------------------
_mpyshim = _Shim(_mpy, 'micropython')


def _kbd_intr(c):
    _hw.kbd_intr(c)


_mpyshim.kbd_intr = _kbd_intr
_sys.modules['micropython'] = _mpyshim

_timeshim = _Shim(_time, 'time')


def _sleep_ms(ms):
    if _hw.sleep(int(ms)):
        raise KeyboardInterrupt


_timeshim.sleep_ms = _sleep_ms
_timeshim.sleep = lambda s: _sleep_ms(s * 1000)
_timeshim.sleep_us = lambda us: _sleep_ms(us // 1000)
_sys.modules['time'] = _timeshim
_sys.modules['utime'] = _timeshim


# --- ROMFS segments and the firmware personality's vfs.rom_ioctl ------------------------
_segs = [_sim_segment.Segment(i, s) for i, s in enumerate(_P['segments'])]
_port = _P['port']


def _personality():
    if _port in ('stm32', 'alif'):
        import _sim_romioctl
        media = []
        for s in _segs:
            if _port == 'alif':
                import _sim_alif
                media.append(_sim_alif.media_for(s))
            else:
                media.append(__import__('_sim_stm32_' + {'internal-flash': 'flash'}.get(s.device, s.device)).Medium(s))
        return _sim_romioctl.make(_segs, media, _P['api'])
    return __import__('_sim_' + _port).rom_ioctl_for(_segs, _P['api'])


_rom_ioctl = _personality()
_vfsshim = _Shim(_vfs, 'vfs')
_vfsshim.rom_ioctl = _rom_ioctl
_sys.modules['vfs'] = _vfsshim


def _persist():
    for s in _segs:
        s.persist()


# --- /rom: the firmware's VfsRom over segment 0, files used in place -------------------------
class _VfsRom(_sim_romvfs.VfsRom):
    # vfs.VfsRom(buffer): mounts an image held in any buffer (a segment or a bytes object).
    def __init__(self, buf):
        super().__init__(buf, _segs)


_VfsRom.__name__ = 'VfsRom'
_vfsshim.VfsRom = _VfsRom


_MV_MAX_OFFSET = 1 << 24


def _region(seg, off, n):
    # The bytes of a region of a segment, as a buffer. Memoryview offsets are 24-bit, so past
    # 16 MiB the region is reached through its own address.
    if off < _MV_MAX_OFFSET:
        return seg.mv[off:off + n]
    return _uc.bytearray_at(seg.addr + off, n)


class _RomFile(memoryview):
    # A /rom file opened in binary mode: like the firmware's VfsRom file (extmod/vfs_rom_file.c,
    # FileIO) it is a buffer over the file's bytes in flash (memoryview(f), hashlib over it,
    # uctypes.addressof(f) = segment origin + offset) and a stream. It has no len(), as the
    # firmware's file has none.
    def read(self, n=-1):
        end = self._size if n is None or n < 0 else min(self._size, self._pos + n)
        d = bytes(self[self._pos:end]) if end > self._pos else b''
        self._pos = max(self._pos, end)
        return d

    def readinto(self, b):
        d = self.read(len(b))
        b[:len(d)] = d
        return len(d)

    def readline(self):
        rest = bytes(self[self._pos:self._size])
        i = rest.find(b'\n')
        return self.read(len(rest) if i < 0 else i + 1)

    def seek(self, off, whence=0):
        base = (0, self._pos, self._size)[whence]
        self._pos = max(0, base + off)
        return self._pos

    def tell(self):
        return self._pos

    def close(self):
        pass

    def __len__(self):
        raise TypeError("object of type 'FileIO' has no len()")

    def __enter__(self):
        return self

    def __exit__(self, *a):
        self.close()

    def __iter__(self):
        while True:
            line = self.readline()
            if not line:
                return
            yield line


def _rom_file(st):
    fs = st.fs
    seg = fs._seg
    p = fs._base + st.offset
    if seg is not None and 0 <= p and p + st.length <= seg.size:
        view = _region(seg, p, st.length)
    else:
        # data outside the buffer the VfsRom was given: a view where the records point
        view = _uc.bytearray_at(fs._host + st.offset, st.length)
    f = _RomFile(view)
    f._faddr = st.address()
    f._size = st.length
    f._pos = 0
    return f


def _board_open(p, mode='r', *a, **k):
    f = _open(p, mode, *a, **k)
    if isinstance(f, _sim_romvfs.RomStream) and f.binary:
        return _rom_file(f)
    return f


_b.open = _board_open

_ucshim = _Shim(_uc, 'uctypes')


def _addressof(o):
    # The interpreter's own address, as the board's: bytes of a segment are at their flash address.
    if isinstance(o, _RomFile):
        return o._faddr
    a = _uc.addressof(o)
    for s in _segs:
        f = s.flash_address(a)
        if f is not None:
            return f
    return a


def _bytearray_at(addr, n):
    for s in _segs:
        h = s.host_address(addr)
        if h is not None:
            return _uc.bytearray_at(h, min(n, s.origin + s.size - addr))
    return _uc.bytearray_at(addr, n)


_ucshim.addressof = _addressof
_ucshim.bytearray_at = _bytearray_at
_sys.modules['uctypes'] = _ucshim


# --- machine -----------------------------------------------------------------------------
class _Machine:
    __name__ = 'machine'

    def reset(self):
        _persist()
        _hw.reset()

    def bootloader(self):
        # The cam writes a magic word and resets into its DFU bootloader: the link drops and
        # no answer comes. The simulated board has no bootloader; it resets.
        _persist()
        _hw.reset()

    def soft_reset(self):
        _hw.soft_reset()
        raise SystemExit

    def unique_id(self):
        return _ba.unhexlify(_P['uid'])

    def freq(self):
        return 480000000

    def idle(self):
        pass


_sys.modules['machine'] = _Machine()


# --- ml: outcomes of the model's bytes and address, the network is not run (ml.py) ----------
import _sim_ml
_sys.modules['ml'] = _sim_ml.make(_P, _segs, _RomFile, _board_open)


# --- mount /rom and the search path as the firmware does at boot ---------------------------
_mounted = False
try:
    _vfs.mount(_VfsRom(_rom_ioctl(2, 0)), '/rom')
    _mounted = True
except OSError:
    pass  # no ROMFS image: the firmware boots without /rom
_sys.path.clear()
_sys.path.append('')
_sys.path.append('.frozen')
if _mounted:
    _sys.path.append('/rom')
    _sys.path.append('/rom/lib')
