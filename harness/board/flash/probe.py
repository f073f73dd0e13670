# What flashing needs to know, with reads only (nothing is erased or written): the segment
# (memoryview or block device: segment.py says how each port gives it), its size and address,
# whether rom_ioctl can write it (rom_ioctl(3, id, 0) erases nothing on every port: the erase
# loop never runs; it returns the min write size, or -22 where the segment cannot be written),
# rom_ioctl(6, id) (the erase block size on MicroPython master, -22 on every release), the .mpy
# the firmware loads, deflate, uctypes, hashlib, free heap, machine.unique_id() and
# machine.bootloader (DFU), and with _P['reach'] > 0 whether the segment's first _P['reach']
# bytes can be read (reachError: memoryview offsets stop at 16 MiB without
# uctypes.bytearray_at). Self-contained and small (every 128 bytes sent is a raw-paste round
# trip): it answers only what it found, the host fills in the rest (probeBoard.ts), and it hashes
# nothing (hashBoardImage does, when asked). Params: id, reach.
import sys, gc
_i = sys.implementation
_r = {'mpy': getattr(_i, '_mpy', None), 'machine': getattr(_i, '_machine', None), 'platform': sys.platform}
try:
    import uctypes
    _r['bytearrayAt'] = hasattr(uctypes, 'bytearray_at') and hasattr(uctypes, 'addressof')
except ImportError:
    pass
try:
    import hashlib
    _r['sha256'] = hasattr(hashlib, 'sha256')
except ImportError:
    pass
try:
    import vfs
    _f = vfs.rom_ioctl
except (ImportError, AttributeError):
    _f = None
if _f:
    _r['romIoctl'] = True
    _r['segments'] = _f(1)
    _d = _P['id']
    _m = _f(2, _d)
    if isinstance(_m, int):
        _r['partitionErrno'] = _m
    else:
        try:
            _r['origin'] = uctypes.addressof(_m)
        except Exception:
            pass
        if hasattr(_m, 'ioctl') and hasattr(_m, 'readblocks'):
            _r['access'] = 'blockdev'
            _r['blockSize'] = _m.ioctl(5, 0)
            _r['blockCount'] = _m.ioctl(4, 0)
            _r['partitionSize'] = _r['blockSize'] * _r['blockCount']
        else:
            _r['access'] = 'memoryview'
            _r['partitionSize'] = len(_m)
            _n = _P['reach']
            # As segment.py reads it: past 16 MiB only through bytearray_at at a known address.
            if _n > 0x1000000 and _n <= len(_m) and not (_r.get('bytearrayAt') and 'origin' in _r):
                _r['reachError'] = 'offset %d needs uctypes.bytearray_at (memoryview offsets stop at 16 MiB)' % (_n - 1)
        _w = _f(3, _d, 0)
        _r['minWrite'] = _w if isinstance(_w, int) else None
        _w = _f(6, _d)
        _r['eraseBlock'] = _w if isinstance(_w, int) else None
    _m = None
try:
    import deflate
    _r['deflate'] = hasattr(deflate, 'DeflateIO')
except ImportError:
    pass
try:
    import machine, binascii
    _r['bootloader'] = hasattr(machine, 'bootloader')
    _r['uniqueId'] = binascii.hexlify(machine.unique_id()).decode()
except (ImportError, AttributeError):
    pass
try:
    gc.collect()
    _r['memFree'] = gc.mem_free()
except AttributeError:
    pass
_hil_answer(_r)
