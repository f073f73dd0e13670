# Writer for a RAM segment (MicroPython's qemu boards): the bytes go straight into memory through
# uctypes.bytearray_at(origin, size), a bytearray (its slices have no 16 MiB offset limit).
# Segment 0 is unmounted from /rom first (as umount.py), in this same round trip, so nothing reads
# it while it changes; a soft reset mounts it again. Params: id, origin, size. RAM takes any
# length at any offset, so it needs no units.py: _hil_w writes each piece where it goes and
# _hil_end has no tail to pad.
import uctypes
if _P['id'] == 0:
    try:
        import vfs
        vfs.umount('/rom')
    except Exception:
        pass
_hil_err = None
_hil_ba = uctypes.bytearray_at(_P['origin'], _P['size'])


def _hil_w(off, buf):
    _hil_ba[off:off + len(buf)] = buf


def _hil_end():
    pass
