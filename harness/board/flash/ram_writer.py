# Writer for a RAM segment (MicroPython's qemu boards): the bytes go straight into memory through
# uctypes.bytearray_at(origin, size), a bytearray (its slices have no 16 MiB offset limit).
# Segment 0 is unmounted from /rom first (as umount.py), in this same round trip, so nothing reads
# it while it changes; a soft reset mounts it again. Params: id, origin, size. Followed by
# units.py (unit 1).
import uctypes
if _P['id'] == 0:
    try:
        import vfs
        vfs.umount('/rom')
    except Exception:
        pass
_hil_err = None
_hil_u = 1
_hil_ba = uctypes.bytearray_at(_P['origin'], _P['size'])


def _hil_wr(off, buf):
    _hil_ba[off:off + len(buf)] = buf
