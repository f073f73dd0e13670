# What flashing needs to know, with reads only (nothing is erased or written):
# the segment (memoryview or block device), its size and address, whether rom_ioctl can write
# it (rom_ioctl(3, id, 0) erases nothing on every port: the erase loop never runs; it returns the
# min write size, or -22 where the segment cannot be written), rom_ioctl(6, id) (the erase block
# size on MicroPython master, -22 on every release), the .mpy the firmware loads, deflate,
# uctypes, hashlib, free heap, machine.unique_id() and machine.bootloader (DFU), and with
# _P['reachLength'] > 0 whether the segment's first reachLength bytes can be read (reachError),
# with _P['hashLength'] > 0 also their sha256 (the skip decision's fallback, when the small
# skip_probe.py could not hash them). Params: id, hashLength, reachLength. Needs segment.py before it.
import sys, gc
_r = {'romIoctl': False, 'segments': None, 'partitionSize': None, 'partitionErrno': None,
      'access': None, 'blockSize': None, 'blockCount': None, 'origin': None,
      'minWrite': None, 'eraseBlock': None, 'mpy': getattr(sys.implementation, '_mpy', None),
      'machine': getattr(sys.implementation, '_machine', None),
      'deflate': False, 'bytearrayAt': False, 'sha256': False, 'memFree': None,
      'platform': sys.platform, 'currentSha256': None, 'uniqueId': None, 'bootloader': False,
      'reachError': None}
try:
    import vfs
    _f = vfs.rom_ioctl
    _r['romIoctl'] = True
except (ImportError, AttributeError):
    _f = None
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
if _f:
    _r['segments'] = _f(1)
    _s = _HilSeg(_P['id'])
    if _s.errno is not None:
        _r['partitionErrno'] = _s.errno
    elif _s.kind:
        _r['access'] = _s.kind
        _r['partitionSize'] = _s.size
        _r['origin'] = _s.addr
        _r['blockSize'] = _s.bs
        _r['blockCount'] = _s.count
        _w = _f(3, _P['id'], 0)
        _r['minWrite'] = _w if isinstance(_w, int) else None
        _e = _f(6, _P['id'])
        _r['eraseBlock'] = _e if isinstance(_e, int) else None
        _n = _P['reachLength']
        if _n > 0 and _s.size >= _n:
            _r['reachError'] = _s.reach(_n)
        _n = _P['hashLength']
        if _n > 0 and _s.size >= _n and _r['sha256'] and _s.reach(_n) is None:
            import binascii
            _r['currentSha256'] = binascii.hexlify(_hil_sha(_s, 0, _n, 16384)).decode()
    _s = None
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
