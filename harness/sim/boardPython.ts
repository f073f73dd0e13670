/**
 * The Python half of the simulated board, installed at every boot before the REPL starts. It
 * gives the real MicroPython interpreter the board facilities an OpenMV cam has and the wasm port
 * lacks: `vfs.rom_ioctl` over a flash partition, in-place `/rom` files with flash addresses,
 * `sys.stdin`/`sys.stdout` streams on the serial line, `machine`, and a simulated `ml` that checks
 * placement and format but says it does not run the network. Host services come from the JS
 * module `_simhw` registered by the board process.
 */
export const BOARD_PY = String.raw`
import sys as _sys, builtins as _b, binascii as _ba, json as _json
import vfs as _vfs, uctypes as _uc, micropython as _mpy, time as _time, _simhw as _hw

_cfg = _json.loads(_hw.config())
_ORIGIN = _cfg['origin']
_SIZE = _cfg['size']
_EB = _cfg['eraseBlock']
_MW = _cfg['minWrite']
_FLASH = _cfg['medium'] == 'flash'
_EINVAL = -22
_EIO = -5
_open = _b.open
_mv = _b.memoryview

_part = bytearray(_SIZE)
with _open('/.sim/partition', 'rb') as _f:
    _f.readinto(_part)
del _f
_partmv = _mv(_part)


def _persist():
    with _open('/.sim/partition', 'wb') as f:
        f.write(_part)
    _hw.persist()


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


_impl = _Impl()
_impl.name = _sys.implementation.name
_impl.version = _sys.implementation.version
_impl._machine = _cfg['identity']['machine']
_impl._mpy = _cfg['identity']['mpy']
_sysshim.platform = _cfg['identity']['platform']
_sysshim.implementation = _impl
import os as _os
from collections import namedtuple as _nt
_osshim = _Shim(_os, 'os')
if _cfg['identity']['uname']:
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


# --- ROMFS partition: vfs.rom_ioctl with the stm32 port's semantics --------------------
def _rom_ioctl(cmd, *a):
    if cmd == 1:
        return 1
    if len(a) < 1 or a[0] != 0:
        return _EINVAL
    if cmd == 2:
        return _partmv
    if not _FLASH:
        return _EINVAL
    if cmd == 3:
        if len(a) == 2:
            off, n = 0, a[1]
        elif len(a) == 3:
            off, n = a[1], a[2]
        else:
            return _EINVAL
        if off < 0 or n < 0 or off + n > _SIZE:
            return _EINVAL
        if _hw.fail_writes():
            return _EIO
        start = off - off % _EB
        end = min(_SIZE, (off + n + _EB - 1) // _EB * _EB)
        blk = b'\xff' * min(_EB, 65536)
        p = start
        while p < end:
            k = min(len(blk), end - p)
            _part[p:p + k] = blk[:k]
            p += k
        return _MW
    if cmd == 4:
        if len(a) != 3:
            return _EINVAL
        off, buf = a[1], a[2]
        n = len(buf)
        if off < 0 or off + n > _SIZE or off % _MW or n % _MW:
            return _EINVAL
        if _hw.fail_writes():
            return _EIO
        if bytes(_partmv[off:off + n]) != b'\xff' * n:
            return _EIO
        _part[off:off + n] = buf
        return 0
    if cmd == 5:
        _persist()
        return 0
    if cmd == 6:
        return _EB
    return _EINVAL


_vfsshim = _Shim(_vfs, 'vfs')
_vfsshim.rom_ioctl = _rom_ioctl
_sys.modules['vfs'] = _vfsshim


# --- /rom files used in place ------------------------------------------------------------
class _RomFile:
    def __init__(self, path, f, off, size):
        self._f = f
        self._off = off
        self._size = size
        self.name = path

    def read(self, n=-1):
        return self._f.read() if n is None or n < 0 else self._f.read(n)

    def readinto(self, b):
        return self._f.readinto(b)

    def readline(self):
        return self._f.readline()

    def seek(self, *a):
        return self._f.seek(*a)

    def tell(self):
        return self._f.tell()

    def close(self):
        self._f.close()

    def __enter__(self):
        return self

    def __exit__(self, *a):
        self.close()

    def __iter__(self):
        return iter(self._f)


def _rom_path(p):
    return isinstance(p, str) and (p == '/rom' or p.startswith('/rom/'))


def _board_open(p, mode='r', *a, **k):
    if _rom_path(p):
        for c in 'wax+':
            if c in mode:
                raise OSError(30)
        f = _open(p, mode, *a, **k)
        if 'b' in mode:
            loc = _hw.rom_file(p)
            if loc is not None:
                off, size = loc.split(',')
                return _RomFile(p, f, int(off), int(size))
        return f
    return _open(p, mode, *a, **k)


_b.open = _board_open


def _board_memoryview(o):
    if isinstance(o, _RomFile):
        return _partmv[o._off:o._off + o._size]
    return _mv(o)


_b.memoryview = _board_memoryview

_ucshim = _Shim(_uc, 'uctypes')


def _addressof(o):
    if isinstance(o, _RomFile):
        return _ORIGIN + o._off
    if o is _partmv or o is _part:
        return _ORIGIN
    if isinstance(o, str):
        raise TypeError("object with buffer protocol required")
    return _uc.addressof(o)


def _bytearray_at(addr, n):
    if _ORIGIN <= addr and addr + n <= _ORIGIN + _SIZE:
        return _partmv[addr - _ORIGIN:addr - _ORIGIN + n]
    raise ValueError('simulated board: address outside the ROMFS partition')


_ucshim.addressof = _addressof
_ucshim.bytearray_at = _bytearray_at
_sys.modules['uctypes'] = _ucshim


# --- machine -----------------------------------------------------------------------------
class _Machine:
    __name__ = 'machine'

    def reset(self):
        if not _FLASH:
            _persist()
        _hw.reset()

    def soft_reset(self):
        _hw.soft_reset()
        raise SystemExit

    def unique_id(self):
        return _ba.unhexlify(_cfg['uid'])

    def freq(self):
        return 480000000

    def idle(self):
        pass


_sys.modules['machine'] = _Machine()


# --- ml: placement and format checked, the network is not run ------------------------------
class _Array:
    def __init__(self, shape, dtype, nbytes):
        self.shape = tuple(shape)
        self.dtype = dtype
        self._data = bytearray(nbytes)

    def __len__(self):
        return self.shape[0] if self.shape else 0

    def __repr__(self):
        return 'simulated_array(shape=%r, dtype=%r, zeros)' % (self.shape, self.dtype)

    def tobytes(self):
        return bytes(self._data)


class _Model:
    simulated = True

    def __init__(self, path, load_to_fb=False):
        f = open(path, 'rb')
        try:
            head = f.read(8)
            if isinstance(f, _RomFile):
                self.model_addr = _ORIGIN + f._off
                self.in_place = True
            else:
                self.model_addr = None
                self.in_place = False
        finally:
            f.close()
        if len(head) >= 8 and head[4:8] == b'TFL3':
            self.format = 'tflite'
        elif head[:4] == b'NBIN':
            self.format = 'nbin'
        else:
            raise ValueError('Unsupported model schema')
        align = _cfg['alignModels']
        self.aligned = (not self.in_place) or (self.model_addr % align == 0)
        self._align = align
        io = _json.loads(_hw.model_io(path)) if self.format == 'tflite' else {'inputs': [], 'outputs': []}
        self._in = io['inputs']
        self._out = io['outputs']
        self.input_shape = [tuple(t['shape']) for t in self._in]
        self.input_dtype = [t['dtype'] for t in self._in]
        self.input_scale = [1.0 for t in self._in]
        self.input_zero_point = [0 for t in self._in]
        self.output_shape = [tuple(t['shape']) for t in self._out]
        self.output_dtype = [t['dtype'] for t in self._out]
        self.output_scale = [1.0 for t in self._out]
        self.output_zero_point = [0 for t in self._out]
        try:
            self.labels = [l.strip() for l in _open(path.split('.')[0] + '.txt').read().split('\n') if l.strip()]
        except OSError:
            self.labels = None

    def predict(self, inputs, **kw):
        if not self.aligned:
            # What the Ethos-U driver does with a misaligned in-place model.
            raise ValueError('Invoke failed')
        if len(inputs) != len(self._in):
            raise ValueError('expected %d inputs, got %d' % (len(self._in), len(inputs)))
        for item, t in zip(inputs, self._in):
            if callable(item):
                item(bytearray(t['bytes']), tuple(t['shape']), t['dtype'])
            elif len(_mv(item)) < 1:
                raise ValueError('empty input')
        return [_Array(t['shape'], t['dtype'], t['bytes']) for t in self._out]

    def __str__(self):
        addr = 'heap copy' if self.model_addr is None else '0x%08x' % self.model_addr
        return ('{model_addr: %s, aligned: %s (required %d), format: %s, input_shape: %r, output_shape: %r, '
                'simulated: placement and format checked, network not run}'
                % (addr, self.aligned, self._align, self.format, self.input_shape, self.output_shape))

    __repr__ = __str__


class _Ml:
    __name__ = 'ml'
    Model = _Model
    simulated = True


_sys.modules['ml'] = _Ml()


# --- mount /rom and the search path as the firmware does at boot ---------------------------
_sys.path.clear()
_sys.path.append('')
_sys.path.append('.frozen')
if _hw.mounted():
    _sys.path.append('/rom')
    _sys.path.append('/rom/lib')
`;
