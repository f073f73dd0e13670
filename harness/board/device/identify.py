# What the board says it is, read once on connect (harness/device/identify.ts): one sealed query
# answering sys.platform, sys.implementation (_machine, _mpy, version), os.uname(), every ROMFS
# segment's address and size, whether deflate can inflate, and machine.unique_id(). Only reads:
# nothing is erased or written.
# A facility the firmware lacks is answered as None (the host decides what that means).
# Run inside the sealed wrapper (harness/device/sealed.ts), which defines _hil_answer. No params.
import sys


def _hil_identity():
    r = {'platform': sys.platform}
    impl = sys.implementation
    r['name'] = getattr(impl, 'name', None)
    v = getattr(impl, 'version', None)
    r['version'] = [x for x in v[:3]] if v is not None else None
    # MICROPY_HW_BOARD_NAME " with " MICROPY_HW_MCU_NAME (py/modsys.c); absent before v1.22.
    r['machine'] = getattr(impl, '_machine', None)
    # The .mpy version and native architecture the firmware loads (py/persistentcode.h).
    r['mpy'] = getattr(impl, '_mpy', None)
    r['uname'] = None
    try:
        import os
        u = os.uname()
        r['uname'] = {'sysname': u.sysname, 'nodename': u.nodename, 'release': u.release,
                      'version': u.version, 'machine': u.machine}
    except (ImportError, AttributeError):
        pass
    r['segments'] = None
    try:
        import vfs
        n = vfs.rom_ioctl(1)
    except (ImportError, AttributeError):
        n = None
    if isinstance(n, int) and n >= 0:
        try:
            import uctypes
        except ImportError:
            uctypes = None
        segs = []
        for i in range(n):
            s = vfs.rom_ioctl(2, i)
            if isinstance(s, int):
                # A negative errno instead of the segment.
                segs.append({'id': i, 'access': 'errno', 'errno': s, 'origin': None, 'size': None})
                continue
            seg = {'id': i, 'access': 'memoryview', 'origin': None, 'size': None}
            try:
                seg['size'] = len(s)
            except TypeError:
                # A block device object (mimxrt.Flash, ports/mimxrt/mimxrt_flash.c): no len();
                # block count x block size.
                seg['access'] = 'blockdev'
                try:
                    seg['size'] = s.ioctl(4, 0) * s.ioctl(5, 0)
                except (AttributeError, TypeError, OSError):
                    pass
            if uctypes is not None:
                # A memoryview's address, or the block device's buffer protocol address.
                try:
                    seg['origin'] = uctypes.addressof(s)
                except (TypeError, ValueError):
                    pass
            segs.append(seg)
        r['segments'] = segs
    elif isinstance(n, int):
        r['segments'] = []
        r['segmentsErrno'] = n
    # deflate.DeflateIO (extmod/moddeflate.c): hil may then send its programs packed (sealed.ts).
    try:
        import deflate
        r['inflate'] = hasattr(deflate, 'DeflateIO')
    except ImportError:
        r['inflate'] = False
    r['uniqueId'] = None
    try:
        import machine
        import binascii
        r['uniqueId'] = binascii.hexlify(machine.unique_id()).decode()
    except (ImportError, AttributeError, OSError):
        pass
    return r


_hil_answer(_hil_identity())
del _hil_identity
